"""Reads of Helm charts, scoped by the policy (service HELM).

READ on HELM in a space shows its charts; team charts are invisible outside the team (the policy
gives org-level roles no team reach except the org-wide ones). What a caller may not read is a
NotFound, so existence does not leak. Lists join in what a page or response shows (org, team,
latest version, creator) so their query count does not grow with the rows.
"""
from django.db.models import Q, QuerySet

from registry_portal.errors import NotFound
from accounts.permissions import Action, Space, can, teams_with
from accounts.roles import Service
from artifacts.versioned.selectors import matching_glob
from artifacts.versioned.semver import semver_desc
from helmrepo.models import Chart, ChartVersion

__all__ = [
    "chart_in_space", "chart_version", "chart_versions", "charts_in_search_scope", "charts_in_space",
    "matching_glob",
]


def _with_relations(rows: QuerySet) -> QuerySet:
    return rows.select_related("org", "team", "latest_version", "created_by")


def charts_in_space(user, space: Space, *, search: str = "") -> QuerySet:
    """The charts of exactly this space (the portal's Helm Charts page), by name; `search` matches
    the name or the display name."""
    if not can(user, Action.READ, space, service=Service.HELM):
        return Chart.objects.none()
    rows = Chart.objects.filter(org=space.org, team=space.team)
    if search:
        rows = rows.filter(Q(name__icontains=search) | Q(display_name__icontains=search))
    return _with_relations(rows).order_by("name")


def charts_in_search_scope(user, space: Space) -> QuerySet:
    """Charts the user may read in `space`: for an org space, the org's own and those of the org's
    teams the user may read; for a team space, that team's."""
    rows = Chart.objects.filter(org=space.org)
    if space.team is not None:
        if not can(user, Action.READ, space, service=Service.HELM):
            return rows.none()
        return _with_relations(rows.filter(team=space.team))
    condition = Q(team__in=teams_with(user, space.org, Action.READ, service=Service.HELM))
    if can(user, Action.READ, space, service=Service.HELM):
        condition |= Q(team__isnull=True)
    return _with_relations(rows.filter(condition))


def chart_in_space(user, space: Space, name: str) -> Chart:
    """The chart `name` of `space`; NotFound unless it exists and the user may READ it."""
    chart = None
    if can(user, Action.READ, space, service=Service.HELM):
        chart = _with_relations(Chart.objects.filter(org=space.org, team=space.team, name=name)).first()
    if chart is None:
        raise NotFound(f"Helm chart '{space.path}/{name}' not found.")
    return chart


def _versions(chart: Chart) -> QuerySet:
    return ChartVersion.objects.filter(chart=chart).select_related("created_by", "package")


def chart_versions(chart: Chart) -> list[ChartVersion]:
    """All versions, highest SemVer precedence first (the CLI's `sort-order=SEMVER_DESC`; chart
    versions are always SemVer 2, so it is also the only order)."""
    rows = semver_desc(list(_versions(chart)))
    for row in rows:
        row.chart = chart
    return rows


def chart_version(chart: Chart, version: str) -> ChartVersion:
    row = _versions(chart).filter(version=version).first()
    if row is None:
        raise NotFound(f"Version '{version}' of Helm chart '{chart.resource_id}' not found.")
    row.chart = chart
    return row
