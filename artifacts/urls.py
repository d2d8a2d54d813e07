"""The portal's container pages (guide 3.3–3.6).

A repository is addressed by its full registry name (`acme/alpha/app`); the page suffixes sit
behind a `-` segment, which the name grammar never allows as a path component, so no repository
name can collide with them.
"""
from django.urls import path, re_path, register_converter

from artifacts import views

app_name = "artifacts"


class RepositoryNameConverter:
    """`<org>/<path...>` in the registry's name grammar (at least two components)."""

    regex = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class TagConverter:
    regex = r"[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(RepositoryNameConverter, "repository")
register_converter(TagConverter, "tag")

urlpatterns = [
    re_path(r"^logos/(?P<digest>sha256:[a-f0-9]{64})$", views.logo, name="logo"),
    path("registry/containers", views.container_list, name="containers"),
    path("registry/containers/<repository:name>", views.container_detail, name="container"),
    path("registry/containers/<repository:name>/-/tags", views.container_tags, name="container-tags"),
    path("registry/containers/<repository:name>/-/edit", views.container_edit, name="container-edit"),
    path("registry/containers/<repository:name>/-/delete", views.container_delete, name="container-delete"),
    path("registry/containers/<repository:name>/-/tags/<tag:tag>/delete", views.container_tag_delete, name="container-tag-delete"),
]
