"""Helm repository routes, relative to the repository root: `/helm/` on the main host, `/` on
settings.HELM_HOST (helmrepo.middleware). The ChartMuseum API routes come first: an org named
"api" still has its index and packages (their paths never end like the API's)."""
from django.urls import path

from helmrepo import views
from registry_portal import converters  # noqa: F401 (registers the path converters used below)

app_name = "helm"

urlpatterns = [
    path("api/<helm_segment:org>/charts", views.push, name="api-charts"),
    path("api/<helm_segment:org>/<helm_segment:team>/charts", views.push, name="api-team-charts"),
    path("api/<helm_segment:org>/charts/<helm_segment:name>/<str:version>", views.delete_version, name="api-chart-version"),
    path(
        "api/<helm_segment:org>/<helm_segment:team>/charts/<helm_segment:name>/<str:version>",
        views.delete_version, name="api-team-chart-version",
    ),
    path("<helm_segment:org>/index.yaml", views.index_yaml, name="index"),
    path("<helm_segment:org>/<helm_segment:team>/index.yaml", views.index_yaml, name="team-index"),
    path("<helm_segment:org>/charts/<str:filename>", views.package, name="package"),
    path("<helm_segment:org>/<helm_segment:team>/charts/<str:filename>", views.package, name="team-package"),
]
