"""The Private Registry's cross-kind pages: catalog, Entity Creation Hub, container record form,
and model/resource version upload pages (`<org>/[<team>/]<name>` behind `/upload/`)."""
from django.urls import path, register_converter

from artifacts.web import views

app_name = "registry"


class RegistryRefConverter:
    regex = r"[A-Za-z0-9][A-Za-z0-9._-]*(?:/[A-Za-z0-9][A-Za-z0-9._-]*){1,2}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(RegistryRefConverter, "registryref")

urlpatterns = [
    path("registry/catalog", views.catalog_page, name="catalog"),
    path("hub/", views.hub, name="hub"),
    path("hub/container", views.container_create, name="container-create"),
    path("registry/upload/models/<registryref:ref>", views.model_upload, name="model-upload"),
    path("registry/upload/resources/<registryref:ref>", views.resource_upload, name="resource-upload"),
]
