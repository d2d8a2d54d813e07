"""Routes of the NGC API's Helm chart endpoints (apis.py), at the host root, without trailing slashes."""
from django.urls import path

from helmrepo import apis
from registry_portal.converters import SPACES

urlpatterns = []
for scope, prefix in SPACES:
    base = f"{prefix}/helm-charts"
    urlpatterns += [
        path(base, apis.ChartListApi.as_view(), name=f"api-{scope}-helm-charts"),
        path(f"{base}/<str:name>", apis.ChartDetailApi.as_view(), name=f"api-{scope}-helm-chart"),
        path(f"{base}/<str:name>/versions", apis.VersionListApi.as_view(), name=f"api-{scope}-helm-chart-versions"),
        path(f"{base}/<str:name>/versions/<str:version>", apis.VersionDetailApi.as_view(), name=f"api-{scope}-helm-chart-version"),
        path(
            f"{base}/<str:name>/versions/<str:version>/files", apis.VersionFilesApi.as_view(),
            name=f"api-{scope}-helm-chart-version-files",
        ),
    ]
