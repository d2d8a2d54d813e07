"""Routes of the model and resource endpoints, at the host root, without trailing slashes: metadata,
versions and file lists (apis.py) and transfers (transfer_apis.py: multipart upload, commit, download
URLs, zip). The route passes `kind` ("models" or "resources") to the view."""
from django.urls import path

from artifacts.versioned import apis, transfer_apis
from artifacts.versioned.models import ArtifactKind
from registry_portal.converters import SPACES

urlpatterns = [path("v2/search/labelsets", apis.LabelSetListApi.as_view(), name="api-label-sets")]
for scope, prefix in SPACES:
    urlpatterns += [
        path(f"{prefix}/files/multipart", transfer_apis.MultipartApi.as_view(), name=f"api-{scope}-files-multipart"),
        path(f"{prefix}/files/commit", transfer_apis.FilesCommitApi.as_view(), name=f"api-{scope}-files-commit"),
    ]
    for kind in ArtifactKind.values:
        extra = {"kind": kind}
        base = f"{prefix}/{kind}"
        one = f"{base}/<str:name>"
        urlpatterns += [
            path(base, apis.ArtifactListApi.as_view(), extra, name=f"api-{scope}-{kind}"),
            path(one, apis.ArtifactDetailApi.as_view(), extra, name=f"api-{scope}-{kind}-detail"),
            path(f"{one}/versions", apis.VersionListApi.as_view(), extra, name=f"api-{scope}-{kind}-versions"),
            path(f"{one}/versions/<str:version>", apis.VersionDetailApi.as_view(), extra, name=f"api-{scope}-{kind}-version"),
            path(
                f"{one}/versions/<str:version>/files", apis.VersionFilesApi.as_view(), extra,
                name=f"api-{scope}-{kind}-version-files",
            ),
            path(f"{one}/files", transfer_apis.FilesExistApi.as_view(), extra, name=f"api-{scope}-{kind}-files-exist"),
            path(f"{one}/versions/<str:version>/zip", transfer_apis.VersionZipApi.as_view(), extra, name=f"api-{scope}-{kind}-version-zip"),
            # After the version's details: `…/<name>/versions/files` is the details of a version named "files".
            path(f"{one}/<str:version>/files", transfer_apis.DownloadUrlsApi.as_view(), extra, name=f"api-{scope}-{kind}-download-urls"),
        ]
