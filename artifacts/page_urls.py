"""The portal's container pages (guide 3.3–3.6).

A repository is addressed by its full registry name (`acme/alpha/app`); the page suffixes sit
behind a `-` segment, which the name grammar never allows as a path component, so no repository
name can collide with them.
"""
from django.urls import path, re_path

from artifacts import pages
from registry_portal import converters  # noqa: F401 (registers the path converters used below)

app_name = "artifacts"

urlpatterns = [
    re_path(r"^logos/(?P<digest>sha256:[a-f0-9]{64})$", pages.logo, name="logo"),
    path("registry/containers", pages.container_list, name="containers"),
    path("registry/containers/<repository:name>", pages.container_detail, name="container"),
    path("registry/containers/<repository:name>/-/tags", pages.container_tags, name="container-tags"),
    path("registry/containers/<repository:name>/-/edit", pages.container_edit, name="container-edit"),
    path("registry/containers/<repository:name>/-/delete", pages.container_delete, name="container-delete"),
    path("registry/containers/<repository:name>/-/tags/<tag:tag>/delete", pages.container_tag_delete, name="container-tag-delete"),
]
