"""The Private Registry's cross-kind pages: catalog, Entity Creation Hub, container record form,
and model/resource version upload pages (`<org>/[<team>/]<name>` behind `/upload/`)."""
from django.urls import path

from artifacts.web import pages
from registry_portal import converters  # noqa: F401 (registers the path converters used below)

app_name = "registry"

urlpatterns = [
    path("registry/catalog", pages.catalog_page, name="catalog"),
    path("hub/", pages.hub, name="hub"),
    path("hub/container", pages.container_create, name="container-create"),
    path("registry/upload/models/<ref:ref>", pages.model_upload, name="model-upload"),
    path("registry/upload/resources/<ref:ref>", pages.resource_upload, name="resource-upload"),
]
