"""The URLconf of requests to settings.HELM_HOST: the Helm routes at the root, as on helm.ngc.nvidia.com."""
from django.urls import include, path

urlpatterns = [path("", include("helmrepo.protocol_urls"))]

handler400 = "registry_portal.server_errors.bad_request"
handler403 = "registry_portal.server_errors.permission_denied"
handler404 = "registry_portal.server_errors.page_not_found"
handler500 = "registry_portal.server_errors.server_error"
