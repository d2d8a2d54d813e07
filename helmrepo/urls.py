"""Helm repository routes, relative to the repository root: `/helm/` on the main host, `/` on
settings.HELM_HOST (helmrepo.middleware). The ChartMuseum API routes come first: an org named
"api" still has its index and packages (their paths never end like the API's)."""
from django.urls import path, register_converter

from helmrepo import views


class SegmentConverter:
    regex = r"[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(SegmentConverter, "helmname")
app_name = "helm"

urlpatterns = [
    path("api/<helmname:org>/charts", views.push, name="api-charts"),
    path("api/<helmname:org>/<helmname:team>/charts", views.push, name="api-team-charts"),
    path("api/<helmname:org>/charts/<helmname:name>/<str:version>", views.delete_version, name="api-chart-version"),
    path(
        "api/<helmname:org>/<helmname:team>/charts/<helmname:name>/<str:version>",
        views.delete_version, name="api-team-chart-version",
    ),
    path("<helmname:org>/index.yaml", views.index_yaml, name="index"),
    path("<helmname:org>/<helmname:team>/index.yaml", views.index_yaml, name="team-index"),
    path("<helmname:org>/charts/<str:filename>", views.package, name="package"),
    path("<helmname:org>/<helmname:team>/charts/<str:filename>", views.package, name="team-package"),
]
