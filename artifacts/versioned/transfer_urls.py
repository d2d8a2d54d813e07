"""Routes of the model/resource transfer endpoints (artifacts/versioned/transfer_apis.py), at the host
root, without trailing slashes. The capability URLs live under `/v2/transfers/`, which no NGC space
path or registry route uses; the rest sit under `/v2/org/<org>[/team/<team>]/`."""
from django.urls import path

from artifacts.versioned import transfer_apis as apis
from artifacts.versioned.models import ArtifactKind

SPACES = (("org", "v2/org/<str:org>"), ("team", "v2/org/<str:org>/team/<str:team>"))

urlpatterns = [
    path("v2/transfers/uploads/<uuid:upload_id>/parts/<int:number>", apis.upload_part, name="transfer-upload-part"),
    path("v2/transfers/files/<int:file_id>", apis.download_file, name="transfer-download-file"),
]
for scope, prefix in SPACES:
    urlpatterns += [
        path(f"{prefix}/files/multipart", apis.MultipartApi.as_view(), name=f"api-{scope}-files-multipart"),
        path(f"{prefix}/files/commit", apis.FilesCommitApi.as_view(), name=f"api-{scope}-files-commit"),
    ]
    for kind in ArtifactKind.values:
        extra = {"kind": kind}
        urlpatterns += [
            path(f"{prefix}/{kind}/<str:name>/files", apis.FilesExistApi.as_view(), extra, name=f"api-{scope}-{kind}-files-exist"),
            path(
                f"{prefix}/{kind}/<str:name>/versions/<str:version>/zip", apis.VersionZipApi.as_view(), extra,
                name=f"api-{scope}-{kind}-version-zip",
            ),
            path(
                f"{prefix}/{kind}/<str:name>/<str:version>/files", apis.DownloadUrlsApi.as_view(), extra,
                name=f"api-{scope}-{kind}-download-urls",
            ),
        ]
