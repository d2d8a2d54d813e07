"""Reads every versioned artifact kind (models/resources, Helm charts) shares, scoped by the policy:
READ on the kind's service in a space shows its artifacts; team artifacts are invisible outside
the team. Lists join in what a response shows, so their query count does not grow with the rows."""
from django.db.models import Case, CharField, Q, QuerySet, Value, When
from django.db.models.functions import Concat

from accounts.permissions import Action, Space, can, teams_with
from registry_portal.errors import NotFound
from artifacts.selectors import glob_regex


def with_relations(rows: QuerySet) -> QuerySet:
    return rows.select_related("org", "team", "latest_version", "created_by")


def readable_in_scope(user, rows: QuerySet, space: Space, *, service: str) -> QuerySet:
    """`rows` (one kind, not yet filtered by space) the user may read in `space`: for an org space,
    the org's own and those of the org's teams the user may read; for a team space, that team's."""
    rows = rows.filter(org=space.org)
    if space.team is not None:
        if not can(user, Action.READ, space, service=service):
            return rows.none()
        return with_relations(rows.filter(team=space.team))
    condition = Q(team__in=teams_with(user, space.org, Action.READ, service=service))
    if can(user, Action.READ, space, service=service):
        condition |= Q(team__isnull=True)
    return with_relations(rows.filter(condition))


def readable_one(user, rows: QuerySet, space: Space, name: str, *, service: str, missing: str):
    """The artifact `name` of `space` among `rows` (one kind); NotFound(`missing`) unless it exists
    and the user may READ it, so existence does not leak."""
    row = None
    if can(user, Action.READ, space, service=service):
        row = with_relations(rows.filter(org=space.org, team=space.team, name=name)).first()
    if row is None:
        raise NotFound(missing)
    return row


def matching_glob(rows: QuerySet, pattern: str) -> QuerySet:
    """Rows whose `org/[team/]name` matches a shell-style pattern (`*` also crosses '/')."""
    if pattern in ("", "*"):
        return rows
    # Concat coalesces NULL to '' part by part, so the team segment is chosen explicitly.
    team_segment = Case(
        When(team__isnull=True, then=Value("")), default=Concat("team__name", Value("/")), output_field=CharField()
    )
    resource_id = Concat("org__name", Value("/"), team_segment, "name", output_field=CharField())
    return rows.annotate(resource_id_text=resource_id).filter(resource_id_text__regex=glob_regex(pattern))
