"""The one permission policy. Every face (web, NGC API, registry protocol, Helm) asks `can()`.

How a decision is made (docs/permissions.md states the same rules in prose):

1. Role bindings (accounts.models.RoleBinding) are the source of truth. `sync_space_permissions`
   turns a user's bindings in an org into django-guardian object permissions on the Org and on
   each Team, one codename per (service, access) of the role table, e.g. "model_write".
   - Org object: the union of the user's org-level roles; every member of the org (any binding,
     org or team level) also gets "org_read", so they can see the org they belong to.
   - Team object: the union of the user's roles bound on that team plus their org-level roles in
     ORG_WIDE_ROLES (Org Owner, Registry Admin, User Admin reach every team). Other org-level roles
     do not reach teams, so team artifacts stay invisible to everyone outside the team.
2. `can(user, action, space)` reads those object permissions for the space (one query per space
   per request, cached on the user object) and maps the action to a (service, access) pair.
3. Artifact deletion needs ADMIN on the artifact's service, or WRITE plus being its creator.
4. Granting: only roles the actor holds (in the space or at org level, a role counting as holding
   the lesser roles of its family) may be granted, removed or changed; the Org Owner may grant
   every role. Ownership itself is only transferred. Bringing someone new into the org (a first
   binding there) needs MANAGE_USERS at org level; team admins add existing org members.
"""
from dataclasses import dataclass
from enum import StrEnum

from django.contrib.auth.models import Permission
from django.db import transaction
from django.db.models import F, Q

from registry_portal.errors import AccessDenied, NotFound
from accounts.models import Org, OrgUserObjectPermission, RoleBinding, Team, TeamUserObjectPermission, User
from accounts.roles import (
    ARTIFACT_SERVICES,
    GRANTABLE_ROLES,
    ORG_WIDE_ROLES,
    ROLE_SERVICE_ACCESS,
    Access,
    Role,
    Service,
    with_implied,
)


@dataclass(frozen=True)
class Space:
    """A registry space: an org, or a team inside it."""

    org: Org
    team: Team | None = None

    @property
    def path(self) -> str:
        return f"{self.org.name}/{self.team.name}" if self.team else self.org.name

    @property
    def is_team(self) -> bool:
        return self.team is not None

    def __str__(self) -> str:
        return self.path


class Action(StrEnum):
    VIEW_SPACE = "view_space"  # see the org/team and its details
    MANAGE_TEAMS = "manage_teams"  # create, edit, delete teams (org level only)
    VIEW_USERS = "view_users"  # list members and their roles
    MANAGE_USERS = "manage_users"  # invite, add, change roles, remove members
    READ = "read"  # artifacts: view, download, pull
    WRITE = "write"  # artifacts: create, upload, push, edit metadata
    DELETE = "delete"  # artifacts: remove (ADMIN, or WRITE on one's own)


def codename(service: str, access: str) -> str:
    return f"{service.lower()}_{access.lower()}"


def grants_of(roles) -> set[str]:
    """The permission codenames that a set of roles gives, by the role table."""
    return {
        codename(service, access)
        for role in roles
        for service, accesses in ROLE_SERVICE_ACCESS[role].items()
        for access in accesses
    }


# --- keeping guardian in sync with role bindings -------------------------------------------


def _permission_ids(model) -> dict[str, int]:
    # Joined on the natural key rather than ContentType's in-process cache, which goes stale
    # when another process re-creates content types (a test flush, a restore).
    meta = model._meta
    rows = Permission.objects.filter(content_type__app_label=meta.app_label, content_type__model=meta.model_name)
    return dict(rows.values_list("codename", "id"))


def sync_space_permissions(*, user: User, org: Org) -> None:
    """Rewrite the user's guardian permissions on `org` and its teams from their role bindings."""
    bindings = list(RoleBinding.objects.filter(user=user, org=org).values_list("team_id", "role"))
    org_roles = {role for team_id, role in bindings if team_id is None}
    team_roles: dict[int, set[str]] = {}
    for team_id, role in bindings:
        if team_id is not None:
            team_roles.setdefault(team_id, set()).add(role)

    org_codes = grants_of(org_roles)
    if bindings:
        org_codes.add(codename(Service.ORG, Access.READ))
    reaching = grants_of(org_roles & ORG_WIDE_ROLES)
    team_ids = set(team_roles)
    if reaching:
        team_ids |= set(org.teams.values_list("id", flat=True))

    org_perm_ids = _permission_ids(Org)
    team_perm_ids = _permission_ids(Team)
    with transaction.atomic():
        OrgUserObjectPermission.objects.filter(user=user, content_object=org).delete()
        TeamUserObjectPermission.objects.filter(user=user, content_object__org=org).delete()
        OrgUserObjectPermission.objects.bulk_create(
            OrgUserObjectPermission(user=user, content_object=org, permission_id=org_perm_ids[code])
            for code in sorted(org_codes)
        )
        TeamUserObjectPermission.objects.bulk_create(
            TeamUserObjectPermission(user=user, content_object_id=team_id, permission_id=team_perm_ids[code])
            for team_id in sorted(team_ids)
            for code in sorted(grants_of(team_roles.get(team_id, set())) | reaching)
        )
        authz_version_bump(user=user)
    _forget_cached_permissions(user)


def authz_version_bump(*, user: User) -> None:
    """Mark that what `user`'s bearer tokens may do can have changed (bindings, key, activity):
    a token issued before now re-checks the current policy on its next write. In the caller's
    transaction, so the new version and the new permissions become visible together."""
    User.objects.filter(pk=user.pk).update(authz_version=F("authz_version") + 1)
    if "authz_version" in user.__dict__:  # loaded: keep it in step, never ahead of the database
        user.authz_version += 1


def sync_org_permissions(*, org: Org) -> None:
    """Re-sync every member of an org (after a team is created, say)."""
    for user in User.objects.filter(role_bindings__org=org).distinct():
        sync_space_permissions(user=user, org=org)


# --- reading ------------------------------------------------------------------------------


def _forget_cached_permissions(user: User) -> None:
    if hasattr(user, "_space_permission_cache"):
        del user._space_permission_cache


def space_permissions(user, space: Space) -> frozenset[str]:
    """The codenames the user holds on the space (cached on the user object for the request)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return frozenset()
    cache = user.__dict__.setdefault("_space_permission_cache", {})
    key = ("team", space.team.pk) if space.team else ("org", space.org.pk)
    if key not in cache:
        if space.team:
            rows = TeamUserObjectPermission.objects.filter(user=user, content_object=space.team)
        else:
            rows = OrgUserObjectPermission.objects.filter(user=user, content_object=space.org)
        cache[key] = frozenset(rows.values_list("permission__codename", flat=True))
    return cache[key]


def can(user, action: Action, space: Space, *, service: str | None = None, creator_id: int | None = None) -> bool:
    """May `user` do `action` in `space`? `service` is required for the artifact actions."""
    perms = space_permissions(user, space)
    if not perms:
        return False
    if action == Action.VIEW_SPACE:
        return codename(Service.TEAM if space.team else Service.ORG, Access.READ) in perms
    if action == Action.MANAGE_TEAMS:
        return space.team is None and codename(Service.TEAM, Access.ADMIN) in perms
    if action == Action.VIEW_USERS:
        return codename(Service.USER, Access.READ) in perms
    if action == Action.MANAGE_USERS:
        return codename(Service.USER, Access.ADMIN) in perms
    if service not in ARTIFACT_SERVICES:
        raise ValueError(f"artifact action {action} needs an artifact service, got {service!r}")
    if action == Action.READ:
        return codename(service, Access.READ) in perms
    if action == Action.WRITE:
        return codename(service, Access.WRITE) in perms
    if action == Action.DELETE:
        if codename(service, Access.ADMIN) in perms:
            return True
        return creator_id is not None and creator_id == user.pk and codename(service, Access.WRITE) in perms
    raise ValueError(f"unknown action {action!r}")


def require(user, action: Action, space: Space, **kwargs) -> None:
    """Raise NotFound when the user may not even see the space, AccessDenied when they see it but may not act."""
    if not can(user, Action.VIEW_SPACE, space):
        raise NotFound(_not_found_message(space))
    if action != Action.VIEW_SPACE and not can(user, action, space, **kwargs):
        raise AccessDenied(f"You do not have permission to {action.replace('_', ' ')} in {space.path}.")


def _not_found_message(space: Space) -> str:
    if space.team:
        return f"Team '{space.team.name}' not found in org '{space.org.name}'."
    return f"Org '{space.org.name}' not found."


def get_space(user, org_name: str, team_name: str | None = None) -> Space:
    """Look up a space the user may see; anything else is NotFound (existence is not leaked)."""
    org = Org.objects.filter(name=org_name).first()
    if org is None:
        raise NotFound(f"Org '{org_name}' not found.")
    space = Space(org)
    if not can(user, Action.VIEW_SPACE, space):
        raise NotFound(f"Org '{org_name}' not found.")
    if team_name:
        team = Team.objects.filter(org=org, name=team_name).first()
        if team is None:
            raise NotFound(f"Team '{team_name}' not found in org '{org_name}'.")
        space = Space(org, team)
        if not can(user, Action.VIEW_SPACE, space):
            raise NotFound(f"Team '{team_name}' not found in org '{org_name}'.")
    return space


def visible_orgs(user):
    """Orgs the user belongs to (any binding), for lists and the org switcher."""
    if not user.is_authenticated:
        return Org.objects.none()
    return Org.objects.filter(role_bindings__user=user).distinct().order_by("name")


def teams_with(user, org: Org, action: Action, *, service: str):
    """Teams of `org` where `user` may READ or WRITE artifacts of `service`, in one query (for
    lists that span an org and its teams)."""
    access = {Action.READ: Access.READ, Action.WRITE: Access.WRITE}[action]
    if user is None or not user.is_authenticated or not user.is_active:
        return Team.objects.none()
    return Team.objects.filter(
        org=org,
        teamuserobjectpermission__user=user,
        teamuserobjectpermission__permission__codename=codename(service, access),
    ).distinct()


def visible_teams(user, org: Org):
    """Teams of `org` the user may see: their own teams, or all of them for org-wide roles."""
    if not user.is_authenticated:
        return Team.objects.none()
    return Team.objects.filter(
        org=org,
        teamuserobjectpermission__user=user,
        teamuserobjectpermission__permission__codename=codename(Service.TEAM, Access.READ),
    ).distinct()


# --- granting ------------------------------------------------------------------------------


def held_roles(user, space: Space) -> set[str]:
    """Roles the user holds in the space, counting their org-level roles for a team space."""
    query = Q(team__isnull=True)
    if space.team:
        query |= Q(team=space.team)
    return set(RoleBinding.objects.filter(query, user=user, org=space.org).values_list("role", flat=True))


def grantable_roles(user, space: Space) -> set[str]:
    """The roles `user` may grant, change or revoke in `space` (empty without MANAGE_USERS)."""
    if not can(user, Action.MANAGE_USERS, space):
        return set()
    held = held_roles(user, space)
    if Role.ORG_OWNER in held:
        return set(GRANTABLE_ROLES)
    return with_implied(held) & set(GRANTABLE_ROLES)


def require_grantable(user, space: Space, roles) -> None:
    """Raise AccessDenied naming the roles the actor may not grant in the space."""
    require(user, Action.MANAGE_USERS, space)
    allowed = grantable_roles(user, space)
    refused = sorted(set(roles) - allowed)
    if refused:
        raise AccessDenied(
            f"You can only grant roles you hold; you may not grant {', '.join(refused)} in {space.path}."
        )
