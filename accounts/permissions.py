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
2. `can(user, action, space)` reads those object permissions through guardian's
   ObjectPermissionChecker (one per user object, so one query per space per request) and maps the
   action to a (service, access) pair. Lists ("what may this user see") are guardian's
   get_objects_for_user, kept as SQL subqueries (`visible_orgs`, `teams_with`, `readable_spaces_q`;
   `readable_spaces_sql`, the same rule written as SQL for the registry catalog's statement).
3. Artifact deletion needs ADMIN on the artifact's service, or WRITE plus being its creator.
4. Granting: only roles the actor holds (in the space or at org level, a role counting as holding
   the lesser roles of its family) may be granted, removed or changed; the Org Owner may grant
   every role. Ownership itself is only transferred. Bringing someone new into the org (a first
   binding there) needs MANAGE_USERS at org level; team admins add existing org members.
"""
from dataclasses import dataclass
from enum import StrEnum

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import F, Q, QuerySet
from guardian.core import ObjectPermissionChecker
from guardian.shortcuts import get_objects_for_user

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


def expected_permissions(*, user: User, org: Org) -> tuple[set[str], dict[int, set[str]]]:
    """What the user's bindings in `org` give, by the rules above: (codenames on the org,
    {team id: codenames on that team}), teams without any codename left out."""
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
    team_codes = {team_id: grants_of(team_roles.get(team_id, set())) | reaching for team_id in team_ids}
    return org_codes, {team_id: codes for team_id, codes in team_codes.items() if codes}


def stored_permissions(*, user: User, org: Org) -> tuple[set[str], dict[int, set[str]]]:
    """The guardian rows the user holds on `org` and its teams, shaped like `expected_permissions`."""
    org_codes = set(
        OrgUserObjectPermission.objects.filter(user=user, content_object=org).values_list("permission__codename", flat=True)
    )
    team_codes: dict[int, set[str]] = {}
    rows = TeamUserObjectPermission.objects.filter(user=user, content_object__org=org)
    for team_id, code in rows.values_list("content_object_id", "permission__codename"):
        team_codes.setdefault(team_id, set()).add(code)
    return org_codes, team_codes


def permission_drift(*, user: User, org: Org) -> list[str]:
    """How the stored rows differ from what the bindings give, one line per space that differs:
    `<space>: +missing -extra` (empty when in sync)."""
    expected_org, expected_teams = expected_permissions(user=user, org=org)
    stored_org, stored_teams = stored_permissions(user=user, org=org)
    differing = [(org.name, expected_org, stored_org)] if expected_org != stored_org else []
    team_ids = {team_id for team_id in expected_teams.keys() | stored_teams.keys()
                if expected_teams.get(team_id, set()) != stored_teams.get(team_id, set())}
    names = dict(Team.objects.filter(pk__in=team_ids).values_list("pk", "name"))
    for team_id in sorted(team_ids, key=lambda pk: names.get(pk, "")):
        differing.append((f"{org.name}/{names.get(team_id, team_id)}", expected_teams.get(team_id, set()), stored_teams.get(team_id, set())))
    return [
        f"{path}: " + " ".join([*(f"+{code}" for code in sorted(want - have)), *(f"-{code}" for code in sorted(have - want))])
        for path, want, have in differing
    ]


def sync_space_permissions(*, user: User, org: Org) -> None:
    """Rewrite the user's guardian permissions on `org` and its teams from their role bindings."""
    org_codes, team_codes = expected_permissions(user=user, org=org)
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
            for team_id in sorted(team_codes)
            for code in sorted(team_codes[team_id])
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


def team_delete_synced(team: Team) -> None:
    """Delete a team (its bindings and guardian rows go by cascade) and re-sync the users who had
    a binding in it: one whose only binding in the org was there is no longer a member."""
    with transaction.atomic():
        org = team.org
        affected = list(User.objects.filter(role_bindings__team=team).distinct())
        team.delete()
        for user in affected:
            sync_space_permissions(user=user, org=org)


def org_delete_synced(org: Org) -> None:
    """Delete an org (bindings, teams and guardian rows go by cascade); its former members'
    tokens re-check the policy on their next write."""
    with transaction.atomic():
        affected = list(User.objects.filter(role_bindings__org=org).distinct())
        org.delete()
        for user in affected:
            authz_version_bump(user=user)
            _forget_cached_permissions(user)


# --- reading ------------------------------------------------------------------------------


def _forget_cached_permissions(user: User) -> None:
    user.__dict__.pop("_permission_checker", None)


class MemberPermissionChecker(ObjectPermissionChecker):
    """guardian's checker, reading the user's own rows only: the registry grants to users, never
    to groups, and a Django superuser (an operator of the admin) is a member of no org by that."""

    def get_perms(self, obj) -> list[str]:
        key = self.get_local_cache_key(obj)
        if key not in self._obj_perms_cache:
            self._obj_perms_cache[key] = list(self.get_user_perms(obj))
        return self._obj_perms_cache[key]


def permission_checker(user: User) -> ObjectPermissionChecker:
    """The user's checker, made once per user object (request.user lives one request), so each
    space costs one query per request however often it is asked about."""
    checker = user.__dict__.get("_permission_checker")
    if checker is None:
        checker = user.__dict__["_permission_checker"] = MemberPermissionChecker(user)
    return checker


def _acting(user) -> bool:
    return user is not None and user.is_authenticated and user.is_active


def space_permissions(user, space: Space) -> frozenset[str]:
    """The codenames the user holds on the space."""
    if not _acting(user):
        return frozenset()
    return frozenset(permission_checker(user).get_perms(space.team or space.org))


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


def _objects_with(user, code: str, queryset: QuerySet) -> QuerySet:
    """The rows of `queryset` on which the user holds `code`, as one SQL subquery (guardian's
    get_objects_for_user, on the user's own rows: no groups, no superuser shortcut)."""
    if not _acting(user):
        return queryset.none()
    return get_objects_for_user(
        user, code, queryset, use_groups=False, with_superuser=False, accept_global_perms=False,
    )


def visible_orgs(user) -> QuerySet[Org]:
    """Orgs the user belongs to (any binding gives org_read), for lists and the org switcher."""
    return _objects_with(user, codename(Service.ORG, Access.READ), Org.objects.all()).order_by("name")


def teams_with(user, org: Org, action: Action, *, service: str) -> QuerySet[Team]:
    """Teams of `org` where `user` may READ or WRITE artifacts of `service` (for lists that span
    an org and its teams)."""
    access = {Action.READ: Access.READ, Action.WRITE: Access.WRITE}[action]
    return _objects_with(user, codename(service, access), Team.objects.filter(org=org))


def visible_teams(user, org: Org) -> QuerySet[Team]:
    """Teams of `org` the user may see: their own teams, or all of them for org-wide roles."""
    return _objects_with(user, codename(Service.TEAM, Access.READ), Team.objects.filter(org=org))


def readable_spaces_q(user, service: str, *, org_field: str = "org", team_field: str = "team") -> Q:
    """A filter for rows (artifacts) in spaces where `user` may READ `service`: org-level rows of
    orgs where they hold it and rows of teams where they hold it, as SQL subqueries."""
    code = codename(service, Access.READ)
    if not _acting(user):
        return Q(pk__in=[])
    orgs = _objects_with(user, code, Org.objects.all()).values("pk")
    teams = _objects_with(user, code, Team.objects.all()).values("pk")
    return Q(**{f"{org_field}__in": orgs, f"{team_field}__isnull": True}) | Q(**{f"{team_field}__in": teams})


def readable_spaces_sql(*, org_column: str, team_column: str) -> str:
    """readable_spaces_q as an SQL condition, for the registry's hand-written hot statements
    (artifacts.oci.fastpath: the catalog, where building guardian's subqueries through the ORM cost
    more than the database spent answering). Its six %s take `readable_spaces_params`."""
    return (
        f"(({team_column} IS NULL AND {org_column} IN (SELECT p.content_object_id FROM {OrgUserObjectPermission._meta.db_table} p"
        f" JOIN {Permission._meta.db_table} a ON a.id = p.permission_id"
        " WHERE p.user_id = %s AND a.codename = %s AND a.content_type_id = %s))"
        f" OR {team_column} IN (SELECT p.content_object_id FROM {TeamUserObjectPermission._meta.db_table} p"
        f" JOIN {Permission._meta.db_table} a ON a.id = p.permission_id"
        " WHERE p.user_id = %s AND a.codename = %s AND a.content_type_id = %s))"
    )


def readable_spaces_params(user, service: str) -> list:
    user_id = user.pk if _acting(user) else None  # NULL matches no row: public ones only
    code = codename(service, Access.READ)
    org_type, team_type = (ContentType.objects.get_for_model(model).pk for model in (Org, Team))
    return [user_id, code, org_type, user_id, code, team_type]


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
