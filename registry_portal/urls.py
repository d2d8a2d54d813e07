"""Root routes. The NGC API lives at the host root (NVIDIA's client joins absolute paths).

Every app names its route modules by the face they serve: `protocol_urls` (OCI registry, Helm
repository, capability URLs), `api_urls` (NGC API), `page_urls` (portal pages).
"""
from django.contrib import admin
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from registry_portal.token_endpoint import TokenApi

urlpatterns = [
    path("admin/", admin.site.urls),
    # Clients that ask for /favicon.ico without reading the page's <link rel="icon">.
    path("favicon.ico", lambda request: HttpResponsePermanentRedirect(static("favicon.svg"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The container registry first: its routes end in registry suffixes and never shadow the NGC API.
    path("", include("artifacts.oci.protocol_urls")),
    # The Helm repository (index.yaml, packages, ChartMuseum push API); also at the root of HELM_HOST.
    path("helm/", include("helmrepo.protocol_urls")),
    # NVIDIA's client joins the relative `token` to its base URL, the host root.
    path("token", TokenApi.as_view(), name="api-token"),
    path("", include("accounts.api_urls")),
    path("", include("artifacts.gpu.api_urls")),  # GPU hosts and image checks; before artifacts.api_urls
    path("", include("artifacts.api_urls")),
    # Models and resources: metadata, versions, file lists, transfers.
    path("", include("artifacts.versioned.api_urls")),
    # Model/resource capability URLs (part uploads, file downloads).
    path("", include("artifacts.versioned.protocol_urls")),
    # Helm charts: NGC API metadata, versions, file lists (helm-charts/...), and the portal pages.
    path("", include("helmrepo.api_urls")),
    path("", include("helmrepo.page_urls")),
    # The Private Registry catalog, Entity Creation Hub and model/resource upload pages.
    path("", include("artifacts.web.page_urls")),
    path("", include("artifacts.page_urls")),
    path("", include("artifacts.versioned.page_urls")),  # Models and Resources portal pages
    path("", include("artifacts.gpu.page_urls")),  # GPU Hosts portal pages
    path("", include("accounts.page_urls")),
]

# Errors nothing else handled answer in the format of the face the request came to.
handler400 = "registry_portal.server_errors.bad_request"
handler403 = "registry_portal.server_errors.permission_denied"
handler404 = "registry_portal.server_errors.page_not_found"
handler500 = "registry_portal.server_errors.server_error"
