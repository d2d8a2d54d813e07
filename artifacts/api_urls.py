"""Routes of the NGC API's container endpoints, at the host root, without trailing slashes.

None ends in a registry suffix (manifests/<ref>, blobs/…, tags/list, referrers/…), so the
registry's routes, which are matched first, never take them. Repository names may be nested
(`a/b`); the sub-resource routes come first, so a name whose last component is `images` or
`tags` is read as the parent's image or tag list.
"""
from django.urls import path, register_converter

from artifacts import apis


class RepositoryPathConverter:
    """A repository path within its space: the registry's name components joined by `/`."""

    regex = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*"

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


register_converter(RepositoryPathConverter, "ngc_repo")
register_converter(TagConverter, "ngc_tag")

SPACES = (("org", "v2/org/<str:org>"), ("team", "v2/org/<str:org>/team/<str:team>"))

urlpatterns = [
    path("v2/search/catalog/resources/<str:resource_type>", apis.CatalogSearchApi.as_view(), name="api-search-catalog"),
    path(
        "v2/search/subscriber/catalog/resources/<str:resource_type>", apis.CatalogSearchApi.as_view(),
        name="api-search-subscriber-catalog",
    ),
    path("v2/search/org/<str:org>/resources/<str:resource_type>", apis.SearchApi.as_view(), name="api-search-org"),
    path(
        "v2/search/org/<str:org>/team/<str:team>/resources/<str:resource_type>", apis.SearchApi.as_view(),
        name="api-search-team",
    ),
]
for scope, prefix in SPACES:
    urlpatterns += [
        path(f"{prefix}/repos", apis.RepositoryListApi.as_view(), name=f"api-{scope}-repos"),
        path(f"{prefix}/repos/<ngc_repo:repo>/images", apis.ImageListApi.as_view(), name=f"api-{scope}-repo-images"),
        path(f"{prefix}/repos/<ngc_repo:repo>/images/<ngc_tag:tag>", apis.ImageDetailApi.as_view(), name=f"api-{scope}-repo-image"),
        path(f"{prefix}/repos/<ngc_repo:repo>/tags/<ngc_tag:tag>", apis.TagDetailApi.as_view(), name=f"api-{scope}-repo-tag"),
        path(f"{prefix}/repos/<ngc_repo:repo>", apis.RepositoryDetailApi.as_view(), name=f"api-{scope}-repo"),
    ]
