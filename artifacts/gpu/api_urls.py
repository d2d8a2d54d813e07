"""Routes of the GPU-host API (included before artifacts.api_urls: its nested repository names
would otherwise read `…/images/<tag>/gpu-check` as a repository path)."""
from django.urls import path

from artifacts.gpu import apis
from registry_portal.converters import SPACES

urlpatterns = [
    path("v2/org/<str:org>/gpu-hosts", apis.GpuHostListApi.as_view(), name="api-gpu-hosts"),
    path("v2/org/<str:org>/gpu-hosts/<str:name>", apis.GpuHostDetailApi.as_view(), name="api-gpu-host"),
]
for scope, prefix in SPACES:
    urlpatterns.append(path(
        f"{prefix}/repos/<repo_path:repo>/images/<tag:tag>/gpu-check", apis.GpuCheckApi.as_view(),
        name=f"api-{scope}-repo-image-gpu-check",
    ))
