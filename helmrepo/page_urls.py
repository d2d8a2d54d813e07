"""The portal's Helm chart pages (guide 6.3); the Helm repository protocol's routes are protocol_urls.py.

A chart is addressed by `<org>/[<team>/]<name>`; page suffixes sit behind a `-` segment, which no
org, team or chart name can be, so they never collide with a chart.
"""
from django.urls import path

from helmrepo import pages
from registry_portal import converters  # noqa: F401 (registers the path converters used below)

app_name = "helmcharts"

urlpatterns = [
    path("registry/helm-charts", pages.chart_list, name="charts"),
    path("hub/helm-chart", pages.chart_create, name="chart-create"),
    path("registry/helm-charts/<ref:ref>", pages.chart_detail, name="chart"),
    path("registry/helm-charts/<ref:ref>/-/versions", pages.chart_versions, name="chart-versions"),
    path("registry/helm-charts/<ref:ref>/-/versions/<chart_version:version>", pages.chart_version, name="chart-version"),
    path("registry/helm-charts/<ref:ref>/-/files", pages.chart_files, name="chart-files"),
    path("registry/helm-charts/<ref:ref>/-/edit", pages.chart_edit, name="chart-edit"),
    path("registry/helm-charts/<ref:ref>/-/delete", pages.chart_delete, name="chart-delete"),
    path(
        "registry/helm-charts/<ref:ref>/-/versions/<chart_version:version>/delete", pages.chart_version_delete,
        name="chart-version-delete",
    ),
]
