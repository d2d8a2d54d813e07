"""Every write of the identity layer. Web views, the NGC API, management commands and Celery
tasks call these; nothing else writes accounts tables.

Each function's docstring states the rule it enforces. Permission checks go through
accounts.permissions; errors are registry_portal.errors types with a user-facing message.
"""
import re
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import permissions, tokens
from registry_portal.errors import AccessDenied, Conflict, Gone, InvalidInput, NotFound
from accounts.models import RESERVED_ORG_NAMES, ApiKey, Invitation, Org, RoleBinding, Team, User
from accounts.permissions import Action, Space
from accounts.roles import Role, UnknownRole, normalize_role
from registry_portal.names import NAME_PATTERN
from registry_portal.outbox.services import outbox_enqueue

TEAM_NAME_RE = re.compile(NAME_PATTERN)


# --- validation helpers -------------------------------------------------------------------


def _validate_namespace_name(name: str, *, what: str) -> str:
    """Org and team names are path segments: lowercase, 1-64 chars, letters/digits and - _ . inside."""
    if not name:
        raise InvalidInput(f"{what} name is required.", field="name")
    if name != name.lower() and TEAM_NAME_RE.match(name.lower()):
        raise InvalidInput(f"{what} names must be all lowercase: use '{name.lower()}'.", field="name")
    if len(name) > 64:
        raise InvalidInput(f"{what} name is too long (at most 64 characters).", field="name")
    if not TEAM_NAME_RE.match(name):
        # Suggest only a name that passes this same rule ("Vision Team" -> vision-team).
        nearest = re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-._")
        suggestion = f" — for example '{nearest}'" if TEAM_NAME_RE.match(nearest) else ""
        raise InvalidInput(
            f"Invalid {what.lower()} name '{name}': use lowercase letters, digits, '-', '_' or '.', "
            f"starting and ending with a letter or digit{suggestion}.",
            field="name",
        )
    return name


def roles_from_names(names) -> list[str]:
    """Canonical roles from role names or aliases; InvalidInput lists the valid names."""
    result = []
    for name in names:
        try:
            role = normalize_role(name)
        except UnknownRole as exc:
            raise InvalidInput(str(exc), field="roles") from None
        if role not in result:
            result.append(role)
    return result


def _grantable(roles) -> list[str]:
    canonical = roles_from_names(roles)
    if Role.ORG_OWNER in canonical:
        raise InvalidInput("The Org Owner role cannot be granted; the owner transfers ownership instead.", field="roles")
    return canonical


def _full_clean(obj) -> None:
    try:
        obj.full_clean()
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise InvalidInput(f"{field}: {' '.join(messages)}", field=field) from None


# --- users ---------------------------------------------------------------------------------


def user_create(*, email: str, name: str = "", password: str | None = None, email_verified: bool = False) -> User:
    """Create an account; e-mail addresses are unique case-insensitively."""
    email = (email or "").strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise Conflict(f"An account with e-mail {email} already exists.", field="email")
    user = User(email=email, name=name.strip(), email_verified=email_verified)
    user.set_password(password) if password else user.set_unusable_password()
    _full_clean(user)
    user.save()
    return user


def user_update_preferences(*, user: User, product_news_opt_in: bool) -> User:
    user.product_news_opt_in = product_news_opt_in
    user.preferences_completed = True
    user.save(update_fields=["product_news_opt_in", "preferences_completed"])
    return user


def email_verification_link_token(user: User) -> str:
    return tokens.link_token(purpose="verify-email", row_id=user.pk, nonce=user.email_verification_nonce)


def email_verification_request(*, user: User) -> None:
    """Owe the verification e-mail (an outbox row in the current transaction; sent after commit)."""
    outbox_enqueue("accounts.tasks.send_verification_email", user.pk)


def email_verify(*, token: str) -> User:
    """Mark the address verified. Each link works once (the nonce rotates) and expires."""
    parsed = tokens.parse_link_token(token)
    if parsed is None:
        raise NotFound("This verification link is not valid.")
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=parsed[0]).first()
        if user is None or not tokens.link_token_matches(
            token, purpose="verify-email", row_id=user.pk, nonce=user.email_verification_nonce
        ):
            raise Gone("This verification link has already been used or is no longer valid.")
        user.email_verified = True
        user.email_verification_nonce = tokens.new_nonce()
        user.save(update_fields=["email_verified", "email_verification_nonce"])
    return user


# --- orgs ----------------------------------------------------------------------------------


def org_create(*, name: str, display_name: str = "", owner: User, description: str = "") -> Org:
    """Create an org with its one Org Owner. Names are unique, lowercase, and not reserved."""
    _validate_namespace_name(name, what="Org")
    if name in RESERVED_ORG_NAMES:
        raise InvalidInput(f"'{name}' is a reserved name; choose another org name.", field="name")
    with transaction.atomic():
        if Org.objects.filter(name=name).exists():
            raise Conflict(f"Org '{name}' already exists.", field="name")
        org = Org(name=name, display_name=display_name or name, description=description)
        _full_clean(org)
        org.save()
        RoleBinding.objects.create(user=owner, org=org, role=Role.ORG_OWNER)
        permissions.sync_space_permissions(user=owner, org=org)
    return org


def org_owner(org: Org) -> User | None:
    binding = RoleBinding.objects.select_related("user").filter(org=org, role=Role.ORG_OWNER).first()
    return binding.user if binding else None


def org_transfer_ownership(*, org: Org, actor: User, new_owner: User) -> None:
    """Only the current owner transfers; the new owner must already be a member of the org.

    The previous owner keeps org-level Registry Admin and User Admin, so they stay an admin.
    """
    with transaction.atomic():
        current = RoleBinding.objects.select_for_update().filter(org=org, role=Role.ORG_OWNER).order_by("pk").first()
        if current is None or current.user_id != actor.pk:
            raise AccessDenied("Only the Org Owner can transfer ownership.")
        if new_owner.pk == actor.pk:
            raise InvalidInput("You already own this org.")
        if not RoleBinding.objects.filter(org=org, user=new_owner).exists():
            raise InvalidInput(f"{new_owner.email} must be a member of '{org.name}' to become its owner.")
        current.delete()
        RoleBinding.objects.create(user=new_owner, org=org, role=Role.ORG_OWNER)
        for role in (Role.REGISTRY_ADMIN, Role.USER_ADMIN):
            RoleBinding.objects.get_or_create(user=actor, org=org, team=None, role=role)
        permissions.sync_space_permissions(user=actor, org=org)
        permissions.sync_space_permissions(user=new_owner, org=org)


# --- teams ---------------------------------------------------------------------------------


def team_name_conflict(*, org: Org, name: str) -> str | None:
    """Why `name` cannot become a team of `org` although no team has it, or None.

    An artifact keeps the space it was created in, and a name like `<org>/<name>/img` means the
    team once `<name>` is a team: so apps whose org-level artifacts already use such a name refuse
    it, through a `team_name_conflict(org=, name=)` method on their AppConfig (artifacts: org-level
    container repositories; docs/permissions.md "Spaces")."""
    for config in apps.get_app_configs():
        check = getattr(config, "team_name_conflict", None)
        reason = check(org=org, name=name) if check is not None else None
        if reason:
            return reason
    return None


def team_create(*, org: Org, actor: User, name: str, description: str = "") -> Team:
    """Org administrators create teams; names are lowercase and unique in the org, and not the
    first path component of an org-level repository (`team_name_conflict`)."""
    permissions.require(actor, Action.MANAGE_TEAMS, Space(org))
    _validate_namespace_name(name, what="Team")
    with transaction.atomic():
        # Serialises with a first push creating `<org>/<name>/...`, which takes the same lock.
        Org.objects.select_for_update().filter(pk=org.pk).first()
        if Team.objects.filter(org=org, name=name).exists():
            raise Conflict(f"Team '{name}' already exists in org '{org.name}'.", field="name")
        reason = team_name_conflict(org=org, name=name)
        if reason:
            raise Conflict(reason, field="name")
        team = Team(org=org, name=name, description=description)
        _full_clean(team)
        try:
            team.save()
        except IntegrityError:
            raise Conflict(f"Team '{name}' already exists in org '{org.name}'.", field="name") from None
        # Org-wide roles reach the new team.
        permissions.sync_org_permissions(org=org)
    return team


def team_update(*, team: Team, actor: User, description: str) -> Team:
    permissions.require(actor, Action.MANAGE_TEAMS, Space(team.org))
    team.description = description
    team.save(update_fields=["description"])
    return team


def team_delete(*, team: Team, actor: User) -> None:
    """Deleting a team drops its role bindings and invitations (its members stay in the org)."""
    permissions.require(actor, Action.MANAGE_TEAMS, Space(team.org))
    permissions.team_delete_synced(team)


# --- membership and roles ------------------------------------------------------------------


def _bindings_in(space: Space):
    return RoleBinding.objects.filter(org=space.org, team=space.team)


def _lock_bindings(*, user: User, org: Org) -> None:
    """Lock the user's bindings in the org so concurrent role changes serialise."""
    list(RoleBinding.objects.select_for_update().filter(user=user, org=org).order_by("pk").values_list("pk"))


def _require_may_bring_into_org(*, actor: User, space: Space, user: User) -> None:
    """A user's first role in an org needs an actor who manages the org's users; team admins
    add people who already belong to the org (others are invited)."""
    if RoleBinding.objects.filter(user=user, org=space.org).exists():
        return
    if not permissions.can(actor, Action.MANAGE_USERS, Space(space.org)):
        raise AccessDenied(
            f"{user.email} is not a member of org '{space.org.name}'. Invite them, or ask an org administrator."
        )


def member_roles(*, user: User, space: Space) -> list[str]:
    return sorted(_bindings_in(space).filter(user=user).values_list("role", flat=True))


def role_add(*, actor: User, space: Space, user: User, roles) -> list[str]:
    """Grant roles in a space. Only roles the actor holds (or all, for the owner) are grantable.

    Returns the user's roles in the space afterwards.
    """
    canonical = _grantable(roles)
    if not canonical:
        raise InvalidInput("Give at least one role.", field="roles")
    permissions.require_grantable(actor, space, canonical)
    _require_may_bring_into_org(actor=actor, space=space, user=user)
    with transaction.atomic():
        _lock_bindings(user=user, org=space.org)
        existing = set(_bindings_in(space).filter(user=user).values_list("role", flat=True))
        RoleBinding.objects.bulk_create(
            RoleBinding(user=user, org=space.org, team=space.team, role=role) for role in canonical if role not in existing
        )
        permissions.sync_space_permissions(user=user, org=space.org)
    return member_roles(user=user, space=space)


def role_remove(*, actor: User, space: Space, user: User, roles) -> list[str]:
    """Revoke roles in a space; the actor must be able to grant each of them. The owner role stays."""
    canonical = roles_from_names(roles)
    if Role.ORG_OWNER in canonical:
        raise InvalidInput("The Org Owner role cannot be removed; transfer ownership instead.", field="roles")
    permissions.require_grantable(actor, space, canonical)
    with transaction.atomic():
        _lock_bindings(user=user, org=space.org)
        _bindings_in(space).filter(user=user, role__in=canonical).delete()
        permissions.sync_space_permissions(user=user, org=space.org)
    return member_roles(user=user, space=space)


def member_set_roles(*, actor: User, space: Space, user: User, roles) -> list[str]:
    """Replace the user's roles in the space with exactly `roles` (the Edit Membership form)."""
    wanted = set(_grantable(roles))
    current = set(member_roles(user=user, space=space)) - {Role.ORG_OWNER}
    changed = (wanted - current) | (current - wanted)
    if not wanted and not current:
        raise InvalidInput("Give at least one role.", field="roles")
    permissions.require_grantable(actor, space, changed)
    _require_may_bring_into_org(actor=actor, space=space, user=user)
    with transaction.atomic():
        _lock_bindings(user=user, org=space.org)
        _bindings_in(space).filter(user=user, role__in=current - wanted).delete()
        RoleBinding.objects.bulk_create(
            RoleBinding(user=user, org=space.org, team=space.team, role=role) for role in sorted(wanted - current)
        )
        permissions.sync_space_permissions(user=user, org=space.org)
    return member_roles(user=user, space=space)


def member_add(*, actor: User, space: Space, user: User, roles) -> list[str]:
    """Add an existing account to a team (or org) with roles. The user must already belong to the
    org unless the actor manages the org's users (then the team binding alone makes them a member)."""
    return role_add(actor=actor, space=space, user=user, roles=roles)


def member_remove(*, actor: User, space: Space, user: User) -> None:
    """Remove every role the user has in the space (for an org: also in all its teams).

    The Org Owner cannot be removed, and the actor must be able to grant every role removed.
    """
    if space.team is None:
        doomed = RoleBinding.objects.filter(user=user, org=space.org)
    else:
        doomed = _bindings_in(space).filter(user=user)
    roles = set(doomed.values_list("role", flat=True))
    if not roles:
        raise NotFound(f"{user.email} is not a member of {space.path}.")
    if Role.ORG_OWNER in roles:
        raise InvalidInput("The Org Owner cannot be removed; transfer ownership first.")
    permissions.require_grantable(actor, space, roles)
    with transaction.atomic():
        doomed.delete()
        permissions.sync_space_permissions(user=user, org=space.org)


# --- invitations ---------------------------------------------------------------------------


def invitation_link_token(invitation: Invitation) -> str:
    return tokens.link_token(purpose="invitation", row_id=invitation.pk, nonce=invitation.nonce)


def invitation_url(invitation: Invitation) -> str:
    return f"{settings.SITE_URL}/accounts/invitations/{invitation_link_token(invitation)}"


def invitation_create(
    *,
    actor: User,
    org: Org,
    email: str,
    name: str = "",
    org_roles=(),
    team: Team | None = None,
    team_roles=(),
    message: str = "",
    expires_in: timedelta | None = None,
) -> Invitation:
    """Invite someone by e-mail to the org and/or a team. The actor must be able to grant every
    role in the invitation; at least one role is required; the e-mail goes out after commit."""
    email = (email or "").strip().lower()
    if not email:
        raise InvalidInput("An e-mail address is required.", field="email")
    org_roles = _grantable(org_roles)
    team_roles = _grantable(team_roles)
    if team_roles and team is None:
        raise InvalidInput("Team roles need a team.", field="team")
    if team is not None and team.org_id != org.pk:
        raise NotFound(f"Team '{team.name}' not found in org '{org.name}'.")
    if not org_roles and not team_roles:
        raise InvalidInput("Assign at least one org role or team role.", field="roles")
    if org_roles:
        permissions.require_grantable(actor, Space(org), org_roles)
    if team_roles:
        permissions.require_grantable(actor, Space(org, team), team_roles)
    ttl = expires_in or settings.INVITATION_TTL
    if ttl.total_seconds() <= 0:
        raise InvalidInput("The invitation's expiry must be in the future.", field="invitationExpirationIn")
    invitation = Invitation(
        org=org, team=team, email=email, name=name.strip(), org_roles=org_roles, team_roles=team_roles,
        message=message, invited_by=actor, expires_at=timezone.now() + ttl,
    )
    _full_clean(invitation)
    with transaction.atomic():
        invitation.save()
        outbox_enqueue("accounts.tasks.send_invitation_email", invitation.pk)
    return invitation


def invitation_from_token(token: str) -> Invitation:
    """Find the invitation a link names. Unknown links are NotFound; used or expired ones are Gone."""
    parsed = tokens.parse_link_token(token)
    invitation = None
    if parsed is not None:
        invitation = Invitation.objects.select_related("org", "team").filter(pk=parsed[0]).first()
    if invitation is None or not tokens.link_token_matches(
        token, purpose="invitation", row_id=invitation.pk, nonce=invitation.nonce
    ):
        raise NotFound("This invitation link is not valid. Check that you copied the whole link.")
    if invitation.accepted_at is not None:
        raise Gone("This invitation has already been used. Sign in to reach your organization.")
    if invitation.is_expired:
        raise Gone("This invitation has expired. Ask your organization administrator to invite you again.")
    return invitation


def invitation_accept(*, token: str, user: User) -> Invitation:
    """Accept once: grant the invited roles to `user`, whose e-mail must be the invited one."""
    with transaction.atomic():
        invitation = invitation_from_token(token)
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at is not None:
            raise Gone("This invitation has already been used. Sign in to reach your organization.")
        if user.email.lower() != invitation.email.lower():
            raise AccessDenied(
                f"This invitation was sent to {invitation.email}; you are signed in as {user.email}."
            )
        for role in invitation.org_roles:
            RoleBinding.objects.get_or_create(user=user, org=invitation.org, team=None, role=role)
        for role in invitation.team_roles:
            RoleBinding.objects.get_or_create(user=user, org=invitation.org, team=invitation.team, role=role)
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        permissions.sync_space_permissions(user=user, org=invitation.org)
    return invitation


def invitation_sign_up(*, token: str, name: str, password: str) -> User:
    """Create the invited person's account (e-mail fixed to the invited one, terms accepted),
    accept the invitation with it and queue the verification e-mail, all or nothing."""
    with transaction.atomic():
        invitation = invitation_from_token(token)
        user = user_create(email=invitation.email, name=name, password=password)
        user.terms_accepted_at = timezone.now()
        user.save(update_fields=["terms_accepted_at"])
        invitation_accept(token=token, user=user)
        email_verification_request(user=user)
    return user


def invitation_mark_sent(*, invitation: Invitation) -> None:
    invitation.email_sent_at = timezone.now()
    invitation.save(update_fields=["email_sent_at"])


def invitation_revoke(*, actor: User, invitation: Invitation) -> None:
    space = Space(invitation.org, invitation.team)
    permissions.require(actor, Action.MANAGE_USERS, space)
    invitation.delete()


def invitation_resend(*, actor: User, invitation: Invitation) -> Invitation:
    """Send a pending invitation's e-mail again with a fresh expiry (the link stays the same).
    MANAGE_USERS in the invitation's space; a used invitation cannot be resent."""
    permissions.require(actor, Action.MANAGE_USERS, Space(invitation.org, invitation.team))
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at is not None:
            raise Gone(f"The invitation to {invitation.email} has already been accepted.")
        invitation.expires_at = timezone.now() + settings.INVITATION_TTL
        invitation.email_sent_at = None
        invitation.save(update_fields=["expires_at", "email_sent_at"])
        outbox_enqueue("accounts.tasks.send_invitation_email", invitation.pk)
    return invitation


# --- API keys ------------------------------------------------------------------------------


def api_key_generate(*, user: User) -> str:
    """Create the user's API key and return it; it is never shown again. Any previous key stops working."""
    raw = tokens.generate_api_key()
    with transaction.atomic():
        ApiKey.objects.filter(user=user).delete()
        ApiKey.objects.create(user=user, prefix=tokens.api_key_prefix(raw), key_hash=tokens.hash_api_key(raw))
        # Tokens obtained with the old key stop writing at once (and, on the NGC API, stop working).
        permissions.authz_version_bump(user=user)
    return raw


def api_key_check(raw_key: str) -> ApiKey | None:
    """The current key `raw_key` is, with its active user loaded (`.user`), or None."""
    if not raw_key:
        return None
    key = ApiKey.objects.select_related("user").filter(key_hash=tokens.hash_api_key(raw_key)).first()
    if key is None or not key.user.is_active:
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=5):
        # Throttled so a busy client does not turn every token request into a write.
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


def api_key_authenticate(raw_key: str) -> User | None:
    """The active user whose current key this is, or None."""
    key = api_key_check(raw_key)
    return key.user if key is not None else None


def user_set_active(*, user: User, is_active: bool) -> User:
    """Deactivate or reactivate an account. A deactivated user's key and tokens stop working at
    once (writes under a token issued before either change re-check the current policy)."""
    with transaction.atomic():
        user.is_active = is_active
        user.save(update_fields=["is_active"])
        permissions.authz_version_bump(user=user)
    return user


# --- bootstrap (management commands, demo) -------------------------------------------------


def user_get_or_create(*, email: str, name: str = "", password: str | None = None) -> tuple[User, bool]:
    user = User.objects.filter(email__iexact=email.strip()).first()
    if user is not None:
        if password:
            user.set_password(password)
            user.save(update_fields=["password"])
        return user, False
    return user_create(email=email, name=name, password=password, email_verified=True), True


def member_bootstrap(*, org: Org, user: User, role: str, team: Team | None = None) -> None:
    """Grant a role without an acting user (server operators' management commands only)."""
    role = roles_from_names([role])[0]
    if role == Role.ORG_OWNER:
        raise InvalidInput("Use ownership transfer to change the Org Owner.")
    RoleBinding.objects.get_or_create(user=user, org=org, team=team, role=role)
    permissions.sync_space_permissions(user=user, org=org)

