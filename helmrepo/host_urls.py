"""The URLconf of requests to settings.HELM_HOST: the Helm routes at the root, as on helm.ngc.nvidia.com."""
from django.urls import include, path

urlpatterns = [path("", include("helmrepo.urls"))]

handler500 = "registry_portal.server_errors.server_error"
