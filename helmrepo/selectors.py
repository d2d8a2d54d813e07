"""Reads of Helm charts, scoped by the policy (service HELM).

READ on HELM in a space shows its charts; team charts are invisible outside the team (the policy
gives org-level roles no team reach except the org-wide ones). What a caller may not read is a
NotFound, so existence does not leak. Lists join in what a page or response shows (org, team,
latest version, creator) so their query count does not grow with the rows.
"""
from django.db.models import Q, QuerySet

from registry_portal.errors import NotFound
from accounts.permissions import Action, Space, can
from accounts.roles import Service
from artifacts.core.selectors import readable_in_scope, readable_one, with_relations
from artifacts.versioned.semver import semver_desc
from helmrepo.models import Chart, ChartVersion

__all__ = [
    "chart_in_space", "chart_version", "chart_versions", "charts_in_search_scope", "charts_in_space",
]


def charts_in_space(user, space: Space, *, search: str = "") -> QuerySet:
    """The charts of exactly this space (the portal's Helm Charts page), by name; `search` matches
    the name or the display name."""
    if not can(user, Action.READ, space, service=Service.HELM):
        return Chart.objects.none()
    rows = Chart.objects.filter(org=space.org, team=space.team)
    if search:
        rows = rows.filter(Q(name__icontains=search) | Q(display_name__icontains=search))
    return with_relations(rows).order_by("name")


def charts_in_search_scope(user, space: Space) -> QuerySet:
    """Charts the user may read in `space` (artifacts.core.selectors.readable_in_scope)."""
    return readable_in_scope(user, Chart.objects.all(), space, service=Service.HELM)


def chart_in_space(user, space: Space, name: str) -> Chart:
    """The chart `name` of `space`; NotFound unless it exists and the user may READ it."""
    return readable_one(user, Chart.objects.all(), space, name, service=Service.HELM, missing=f"Helm chart '{space.path}/{name}' not found.")


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
