"""Reads of the identity layer, scoped by the permission policy (accounts.permissions).

Each function takes the acting user, checks what they may see, and returns a queryset with the
related rows a page or an API list needs already joined or prefetched, so that rendering a list
costs the same number of queries whatever its length.
"""
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from accounts import permissions
from registry_portal.errors import NotFound
from accounts.models import Invitation, Org, RoleBinding, Team, User
from accounts.permissions import Action, Space


def orgs_of(user: User) -> QuerySet[Org]:
    """The orgs the user belongs to (any role binding)."""
    return permissions.visible_orgs(user)


def teams_of(*, actor: User, space: Space) -> QuerySet[Team]:
    """The teams of the space's org the actor may see, by name."""
    permissions.require(actor, Action.VIEW_SPACE, space)
    return permissions.visible_teams(actor, space.org).order_by("name")


def _bindings_shown_in(space: Space) -> QuerySet[RoleBinding]:
    """The bindings a member listing of `space` shows: all of the org's for the org, the org-level
    ones and that team's for a team (so a team's listing does not reveal the member's other teams)."""
    bindings = RoleBinding.objects.filter(org=space.org)
    if space.team is not None:
        bindings = bindings.filter(Q(team__isnull=True) | Q(team=space.team))
    return bindings.select_related("org", "team").order_by("team__name", "role")


def members_of(*, actor: User, space: Space, email: str | None = None) -> QuerySet[User]:
    """Members of the space (users with a binding there), each with `shown_bindings` prefetched.

    Needs VIEW_USERS in the space; an e-mail filter matches the whole address, case-insensitively.
    """
    permissions.require(actor, Action.VIEW_USERS, space)
    if space.team is None:
        members = User.objects.filter(role_bindings__org=space.org)
    else:
        members = User.objects.filter(role_bindings__team=space.team)
    if email:
        members = members.filter(email__iexact=email.strip())
    return (
        members.distinct()
        .order_by("email")
        .prefetch_related(Prefetch("role_bindings", queryset=_bindings_shown_in(space), to_attr="shown_bindings"))
    )


def member_lookup(*, space: Space, identifier: str) -> User:
    """A member of the space's org by numeric id or e-mail, with `shown_bindings` for the space.

    Team paths also find org members who are not yet in the team (NVIDIA's client looks a user up
    under the team before adding them to it). Anyone else is NotFound.
    """
    identifier = (identifier or "").strip()
    if identifier.isdigit():
        query = Q(pk=int(identifier))
    elif "@" in identifier:
        query = Q(email__iexact=identifier)
    else:
        raise NotFound(f"User '{identifier}' not found in org '{space.org.name}'.")
    user = (
        User.objects.filter(query, role_bindings__org=space.org)
        .distinct()
        .prefetch_related(Prefetch("role_bindings", queryset=_bindings_shown_in(space), to_attr="shown_bindings"))
        .first()
    )
    if user is None:
        raise NotFound(f"User '{identifier}' not found in org '{space.org.name}'.")
    return user


def member_detail(*, actor: User, space: Space, identifier: str) -> User:
    """Like member_lookup, for a reader: needs VIEW_USERS in the space."""
    permissions.require(actor, Action.VIEW_USERS, space)
    return member_lookup(space=space, identifier=identifier)


def me_with_roles(*, user: User, org: Org | None = None) -> User:
    """The caller with `shown_bindings`: all their bindings, or only those in `org`."""
    bindings = RoleBinding.objects.filter(user=user).select_related("org", "team").order_by("org__name", "team__name", "role")
    if org is not None:
        bindings = bindings.filter(org=org)
    return User.objects.prefetch_related(Prefetch("role_bindings", queryset=bindings, to_attr="shown_bindings")).get(pk=user.pk)


def pending_invitations(*, actor: User, space: Space) -> QuerySet[Invitation]:
    """Invitations of the space not yet accepted nor expired (for an org: its team invitations too)."""
    permissions.require(actor, Action.VIEW_USERS, space)
    invitations = Invitation.objects.filter(org=space.org, accepted_at__isnull=True, expires_at__gt=timezone.now())
    if space.team is not None:
        invitations = invitations.filter(team=space.team)
    return invitations.select_related("org", "team").order_by("-created_at", "-pk")
