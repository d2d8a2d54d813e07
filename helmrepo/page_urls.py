"""The portal's Helm chart pages (guide 6.3); the Helm repository protocol's routes are urls.py.

A chart is addressed by `<org>/[<team>/]<name>`; page suffixes sit behind a `-` segment, which no
org, team or chart name can be, so they never collide with a chart.
"""
from django.urls import path, register_converter

from helmrepo import pages

app_name = "helmcharts"


class ChartRefConverter:
    """`<org>/<chart>` or `<org>/<team>/<chart>`."""

    regex = r"[A-Za-z0-9][A-Za-z0-9._-]*(?:/[A-Za-z0-9][A-Za-z0-9._-]*){1,2}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class ChartVersionConverter:
    regex = r"[0-9A-Za-z][0-9A-Za-z.+-]{0,127}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ChartRefConverter, "chartref")
register_converter(ChartVersionConverter, "chartversion")

urlpatterns = [
    path("registry/helm-charts", pages.chart_list, name="charts"),
    path("hub/helm-chart", pages.chart_create, name="chart-create"),
    path("registry/helm-charts/<chartref:ref>", pages.chart_detail, name="chart"),
    path("registry/helm-charts/<chartref:ref>/-/versions", pages.chart_versions, name="chart-versions"),
    path("registry/helm-charts/<chartref:ref>/-/versions/<chartversion:version>", pages.chart_version, name="chart-version"),
    path("registry/helm-charts/<chartref:ref>/-/files", pages.chart_files, name="chart-files"),
    path("registry/helm-charts/<chartref:ref>/-/edit", pages.chart_edit, name="chart-edit"),
    path("registry/helm-charts/<chartref:ref>/-/delete", pages.chart_delete, name="chart-delete"),
    path(
        "registry/helm-charts/<chartref:ref>/-/versions/<chartversion:version>/delete", pages.chart_version_delete,
        name="chart-version-delete",
    ),
]
