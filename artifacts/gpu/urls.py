"""Routes of the GPU-host API (included before artifacts.api_urls: its nested repository names
would otherwise read `…/images/<tag>/gpu-check` as a repository path)."""
from django.urls import path

from artifacts import api_urls  # noqa: F401 (registers the ngc_repo / ngc_tag converters)
from artifacts.gpu import apis

urlpatterns = [
    path("v2/org/<str:org>/gpu-hosts", apis.GpuHostListApi.as_view(), name="api-gpu-hosts"),
    path("v2/org/<str:org>/gpu-hosts/<str:name>", apis.GpuHostDetailApi.as_view(), name="api-gpu-host"),
]
for scope, prefix in api_urls.SPACES:
    urlpatterns.append(path(
        f"{prefix}/repos/<ngc_repo:repo>/images/<ngc_tag:tag>/gpu-check", apis.GpuCheckApi.as_view(),
        name=f"api-{scope}-repo-image-gpu-check",
    ))
