"""Routes of the model and resource endpoints (apis.py), at the host root, without trailing
slashes; the route passes `kind` ("models" or "resources") to the view."""
from django.urls import path

from artifacts.versioned import apis
from artifacts.versioned.models import ArtifactKind

SPACES = (("org", "v2/org/<str:org>"), ("team", "v2/org/<str:org>/team/<str:team>"))

urlpatterns = [path("v2/search/labelsets", apis.LabelSetListApi.as_view(), name="api-label-sets")]
for scope, prefix in SPACES:
    for kind in ArtifactKind.values:
        extra = {"kind": kind}
        base = f"{prefix}/{kind}"
        urlpatterns += [
            path(base, apis.ArtifactListApi.as_view(), extra, name=f"api-{scope}-{kind}"),
            path(f"{base}/<str:name>", apis.ArtifactDetailApi.as_view(), extra, name=f"api-{scope}-{kind}-detail"),
            path(f"{base}/<str:name>/versions", apis.VersionListApi.as_view(), extra, name=f"api-{scope}-{kind}-versions"),
            path(
                f"{base}/<str:name>/versions/<str:version>", apis.VersionDetailApi.as_view(), extra,
                name=f"api-{scope}-{kind}-version",
            ),
            path(
                f"{base}/<str:name>/versions/<str:version>/files", apis.VersionFilesApi.as_view(), extra,
                name=f"api-{scope}-{kind}-version-files",
            ),
        ]
