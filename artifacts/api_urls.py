"""Routes of the NGC API's container endpoints, at the host root, without trailing slashes.

None ends in a registry suffix (manifests/<ref>, blobs/…, tags/list, referrers/…), so the
registry's routes, which are matched first, never take them. Repository names may be nested
(`a/b`); the sub-resource routes come first, so a name whose last component is `images` or
`tags` is read as the parent's image or tag list.
"""
from django.urls import path

from artifacts import apis
from registry_portal.converters import SPACES

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
        path(f"{prefix}/repos/<repo_path:repo>/images", apis.ImageListApi.as_view(), name=f"api-{scope}-repo-images"),
        path(f"{prefix}/repos/<repo_path:repo>/images/<tag:tag>", apis.ImageDetailApi.as_view(), name=f"api-{scope}-repo-image"),
        path(f"{prefix}/repos/<repo_path:repo>/tags/<tag:tag>", apis.TagDetailApi.as_view(), name=f"api-{scope}-repo-tag"),
        path(f"{prefix}/repos/<repo_path:repo>", apis.RepositoryDetailApi.as_view(), name=f"api-{scope}-repo"),
    ]
