"""The registry's route table, in the order of the spec's endpoint table (end-1 … end-13).

Every route ends in a registry suffix (manifests/<ref>, blobs/<digest>, blobs/uploads/...,
tags/list, referrers/<digest>) or is /v2/ or /v2/_catalog, so none can shadow the NGC API that
shares /v2/. Names are matched loosely here and validated against the spec's grammar in the
handler, so a bad name answers NAME_INVALID rather than a bare 404.
"""
from django.urls import re_path

from artifacts.oci import views

NAME = r"(?P<name>[^?#]+?)"
app_name = "oci"

urlpatterns = [
    re_path(r"^v2/$", views.base, name="base"),  # end-1
    re_path(r"^v2/_catalog$", views.catalog, name="catalog"),
    re_path(rf"^v2/{NAME}/blobs/uploads/?$", views.upload_start, name="upload-start"),  # end-4a/4b, end-11
    re_path(rf"^v2/{NAME}/blobs/uploads/(?P<session_id>[^/]+)$", views.upload_session, name="upload-session"),  # end-5, 6, 13
    re_path(rf"^v2/{NAME}/blobs/(?P<digest>[^/]+)$", views.blob, name="blob"),  # end-2, end-10
    re_path(rf"^v2/{NAME}/manifests/(?P<reference>[^/]+)$", views.manifest, name="manifest"),  # end-3, 7, 9
    re_path(rf"^v2/{NAME}/tags/list$", views.tags_list, name="tags-list"),  # end-8a/8b
    re_path(rf"^v2/{NAME}/referrers/(?P<digest>[^/]+)$", views.referrers, name="referrers"),  # end-12
]
