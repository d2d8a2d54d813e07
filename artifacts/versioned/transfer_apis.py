"""The NGC API's transfer endpoints for models and resources (reference/ngc-api.md §5.3, §5.4).

`{ot}` is `org/<org>` or `org/<org>/team/<team>`; `{kind}` is `models` or `resources`.
- `POST /v2/{ot}/{kind}/{name}/files`: dedup check, `{"files":[{"sha256"}]}` → `{"files":[{"sha256","exists"}]}`.
- `POST|PUT|DELETE /v2/{ot}/files/multipart`: start (or resume) / complete / abort one file's upload.
- `PUT /v2/transfers/uploads/<id>/parts/<n>?expires&sig`: a part's bytes (capability URL, no Authorization);
  with an S3 bucket the start hands out presigned URLs of the bucket instead and this is not used.
- `POST /v2/{ot}/files/commit`: link completed uploads into the version.
- `GET /v2/{ot}/{kind}/{name}/{v}/files[?path=]`: download URLs (no `versions/` segment), paged.
- `GET /v2/transfers/files/<id>?user&expires&sig`: a file's bytes with Range (capability URL).
- `GET /v2/{ot}/{kind}/{name}/versions/{v}/zip`: the whole version as a streamed zip (browsers).
As in accounts/apis.py, `org_space()` finds the space (404 for what the caller may not see) and
checks the token's scope; an artifact is 404 without READ on its service; services decide the rest.
"""
import os
import uuid

from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers as drf_serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.apis import org_space
from registry_portal.api import STATUS_ONLY, NgcPagination, ok
from registry_portal.errors import AccessDenied, InvalidInput, NotFound, RegistryError, error_body
from artifacts.request_bodies import content_length, request_body
from artifacts.blobs.serve import BlobMissing, blob_response
from artifacts.versioned import selectors
from artifacts.versioned.models import ArtifactFile, ArtifactKind, ArtifactVersion
from artifacts.versioned.paths import MAX_PATH_LENGTH
from artifacts.versioned.transfers.capabilities import file_for_download, file_url_path, part_capability_valid
from artifacts.versioned.transfers.commit import files_commit
from artifacts.versioned.transfers.download import version_files, version_for_download, version_zip_stream
from artifacts.versioned.transfers.multipart import MultipartTransfer
from artifacts.versioned.transfers.rules import sha256_base64
from artifacts.versioned.transfers.scope import files_exist
from registry_portal import http_ranges

# --- lookups ------------------------------------------------------------------------------------


def _version(request: Request, org: str, team: str | None, *, kind: str, name: str, version: str) -> ArtifactVersion:
    """The version of a model or resource of the space; 404 unless the caller may read the artifact."""
    if kind not in ArtifactKind.values:
        raise InvalidInput("artifactType must be 'models' or 'resources'.", field="artifactType")
    artifact = selectors.artifact_in_space(request.user, org_space(request, org, team), kind, name)
    return selectors.version_of(artifact, version)


def _valid(serializer_class: type[drf_serializers.Serializer], data: object) -> dict:
    if not isinstance(data, dict):
        raise InvalidInput("The request body must be a JSON object.")
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _absolute(request: Request, path: str) -> str:
    return request.build_absolute_uri(path)


# --- serializers ----------------------------------------------------------------------------------


class _TargetInput(drf_serializers.Serializer):
    name = drf_serializers.CharField(max_length=64)
    version = drf_serializers.CharField(max_length=64)
    artifactType = drf_serializers.ChoiceField(choices=ArtifactKind.values)


class MultipartStartInput(_TargetInput):
    filePath = drf_serializers.CharField(max_length=MAX_PATH_LENGTH, trim_whitespace=False)
    size = drf_serializers.IntegerField(min_value=0)
    sha256 = drf_serializers.CharField(required=False, allow_blank=True, allow_null=True)
    uploadID = drf_serializers.CharField(required=False, allow_blank=True, allow_null=True)
    partNumberList = drf_serializers.ListField(
        child=drf_serializers.IntegerField(min_value=1), required=False, allow_null=True, allow_empty=True
    )
    partSize = drf_serializers.IntegerField(
        required=False, allow_null=True, help_text="Our extension: parts of this many bytes instead of 500,000,000."
    )


class MultipartCompleteInput(_TargetInput):
    filePath = drf_serializers.CharField(max_length=MAX_PATH_LENGTH, trim_whitespace=False)
    uploadID = drf_serializers.CharField()
    sha256 = drf_serializers.CharField(allow_blank=True)


class MultipartAbortInput(_TargetInput):
    filePath = drf_serializers.CharField(max_length=MAX_PATH_LENGTH, trim_whitespace=False, required=False)
    uploadID = drf_serializers.CharField()


class FilesExistInput(drf_serializers.Serializer):
    files = drf_serializers.ListField(
        child=inline_serializer("FileHash", {"sha256": drf_serializers.CharField()}), allow_empty=True
    )


class CommitInput(_TargetInput):
    files = drf_serializers.ListField(child=drf_serializers.DictField(), allow_empty=True)
    baseVersion = drf_serializers.CharField(required=False, allow_null=True, allow_blank=True)


MULTIPART_OUTPUT = inline_serializer(
    "MultipartUpload",
    {
        "uploadID": drf_serializers.CharField(),
        "urls": drf_serializers.ListField(child=drf_serializers.URLField()),
        "partSize": drf_serializers.IntegerField(),
        "partNumberList": drf_serializers.ListField(child=drf_serializers.IntegerField()),
    },
)
FILES_EXIST_OUTPUT = inline_serializer(
    "FilesExist", {"files": inline_serializer("FileExists", {"sha256": drf_serializers.CharField(), "exists": drf_serializers.BooleanField()}, many=True)}
)
DOWNLOAD_OUTPUT = inline_serializer(
    "DownloadUrls",
    {"filepath": drf_serializers.ListField(child=drf_serializers.CharField()), "urls": drf_serializers.ListField(child=drf_serializers.URLField())},
)


# --- upload -------------------------------------------------------------------------------------


class FilesExistApi(APIView):
    """`POST /v2/{ot}/{kind}/{name}/files`: which of these sha256 (base64) need no upload."""

    @extend_schema(request=FilesExistInput, responses=FILES_EXIST_OUTPUT)
    def post(self, request: Request, org: str, kind: str, name: str, team: str | None = None) -> Response:
        artifact = selectors.artifact_in_space(request.user, org_space(request, org, team), kind, name)
        data = _valid(FilesExistInput, request.data)
        hashes = [item["sha256"] for item in data["files"]]
        return ok(files=files_exist(actor=request.user, artifact=artifact, hashes=hashes))


class MultipartApi(APIView):
    """`POST` start (with `uploadID` and `partNumberList`: resume), `PUT` complete, `DELETE` abort."""

    @extend_schema(request=MultipartStartInput, responses=MULTIPART_OUTPUT)
    def post(self, request: Request, org: str, team: str | None = None) -> Response:
        data = _valid(MultipartStartInput, request.data)
        version = _version(request, org, team, kind=data["artifactType"], name=data["name"], version=data["version"])
        if data.get("uploadID"):
            upload, numbers = MultipartTransfer.resume(
                actor=request.user, version=version, upload_id=data["uploadID"], path=data["filePath"],
                part_numbers=data.get("partNumberList"),
            )
        else:
            upload = MultipartTransfer.start(
                actor=request.user, version=version, path=data["filePath"], size=data["size"], sha256=data.get("sha256"),
                part_size=data.get("partSize"),
            )
            numbers = list(range(1, upload.part_count + 1))
        urls = [_absolute(request, url) for url in MultipartTransfer.part_urls(upload, numbers)]
        return ok(uploadID=str(upload.pk), urls=urls, partSize=upload.part_size, partNumberList=numbers)

    @extend_schema(request=MultipartCompleteInput, responses=STATUS_ONLY)
    def put(self, request: Request, org: str, team: str | None = None) -> Response:
        data = _valid(MultipartCompleteInput, request.data)
        version = _version(request, org, team, kind=data["artifactType"], name=data["name"], version=data["version"])
        upload = MultipartTransfer.complete(
            actor=request.user, version=version, upload_id=data["uploadID"], path=data["filePath"], sha256=data["sha256"],
        )
        return ok(uploadID=str(upload.pk), filePath=upload.path, sha256=sha256_base64(upload.sha256))

    @extend_schema(request=MultipartAbortInput, responses=STATUS_ONLY)
    def delete(self, request: Request, org: str, team: str | None = None) -> Response:
        data = _valid(MultipartAbortInput, request.data)
        version = _version(request, org, team, kind=data["artifactType"], name=data["name"], version=data["version"])
        MultipartTransfer.abort(actor=request.user, version=version, upload_id=data["uploadID"])
        return ok()


class FilesCommitApi(APIView):
    """`POST /v2/{ot}/files/commit[?upload-pending=True]`: completed uploads become the version's files."""

    @extend_schema(
        request=CommitInput, responses=STATUS_ONLY,
        parameters=[OpenApiParameter("upload-pending", bool, description="accepted; commits always go to a pending version")],
    )
    def post(self, request: Request, org: str, team: str | None = None) -> Response:
        data = _valid(CommitInput, request.data)
        version = _version(request, org, team, kind=data["artifactType"], name=data["name"], version=data["version"])
        added = files_commit(
            actor=request.user, version=version, files=data["files"], base_version=data.get("baseVersion") or None,
        )
        return ok(name=data["name"], version=data["version"], committedFileCount=added)


def _error(exc: RegistryError) -> JsonResponse:
    body = error_body(exc.status_code, exc.message, status=exc.status)
    return JsonResponse(body, status=exc.status_code)


@csrf_exempt
def upload_part(request: HttpRequest, upload_id: uuid.UUID, number: int) -> JsonResponse:
    """`PUT` one part's bytes to its capability URL (as S3 presigned part URLs take them)."""
    if request.method != "PUT":
        response = _error(RegistryError(f"{request.method} is not supported here; PUT the part's bytes."))
        response.status_code = 405
        response["Allow"] = "PUT"
        return response
    try:
        if not part_capability_valid(
            upload_id=upload_id, number=number, expires=request.GET.get("expires"), signature=request.GET.get("sig"),
        ):
            raise AccessDenied("This part URL is invalid or has expired; ask for the part's URL again.")
        length = content_length(request)
        body = request_body(request)
        try:
            MultipartTransfer.receive_part(upload_id=upload_id, number=number, body=body, length=length)
        finally:
            body.release()
    except RegistryError as exc:
        return _error(exc)
    return JsonResponse({"requestStatus": {"statusCode": "SUCCESS"}, "partNumber": number})


# --- download -----------------------------------------------------------------------------------


class DownloadUrlsApi(APIView):
    """`GET /v2/{ot}/{kind}/{name}/{v}/files`: `{filepath[], urls[]}` paged by `page-size`/`page-number`
    (totalResults/size); `?path=<file>`: `{urls:[one]}`. The version must be UPLOAD_COMPLETE."""

    @extend_schema(
        parameters=[
            OpenApiParameter("path", str, description="one file's path"),
            OpenApiParameter("page-size", OpenApiTypes.INT), OpenApiParameter("page-number", OpenApiTypes.INT),
        ],
        responses=DOWNLOAD_OUTPUT,
    )
    def get(self, request: Request, org: str, kind: str, name: str, version: str, team: str | None = None) -> Response:
        found = _version(request, org, team, kind=kind, name=name, version=version)
        version_for_download(user=request.user, version=found)
        files = version_files(found)
        path = request.query_params.get("path")
        if path is not None:
            file = files.filter(path=path).first()
            if file is None:
                raise NotFound(f"File '{path}' not found in version '{version}'.")
            return ok(filepath=[file.path], urls=[_download_url(request, file)])
        pager = NgcPagination()
        page = pager.paginate_queryset(files, request)
        return ok(
            filepath=[file.path for file in page],
            urls=[_download_url(request, file) for file in page],
            paginationInfo=pager.info,
        )


def _download_url(request: Request, file: ArtifactFile) -> str:
    """The file's capability URL here (capabilities.URL_TTL), even when its bytes are in a bucket.
    NVIDIA's client lists every URL of a version first and then fetches each file in 512 MiB Range
    GETs on the URL it listed, for as long as the version takes: a presigned URL short enough to be
    a safe bearer credential would expire on a large version. Each GET here re-checks the reader's
    rights and, with S3, answers 307 to a fresh presigned GET (settings.S3_PRESIGN_SECONDS)."""
    return _absolute(request, file_url_path(file, request.user))


@csrf_exempt
def download_file(request: HttpRequest, file_id: int) -> HttpResponse:
    """`GET|HEAD` a file's bytes at its capability URL, honouring Range (registry_portal/http_ranges.py)."""
    if request.method not in ("GET", "HEAD"):
        response = _error(RegistryError(f"{request.method} is not supported here."))
        response.status_code = 405
        response["Allow"] = "GET, HEAD"
        return response
    try:
        file = file_for_download(
            file_id=file_id, user_id=request.GET.get("user"), expires=request.GET.get("expires"),
            signature=request.GET.get("sig"),
        )
    except RegistryError as exc:
        return _error(exc)
    try:
        return blob_response(
            request, digest=file.blob.digest, size=file.size_bytes, content_type="application/octet-stream",
            filename=os.path.basename(file.path),
        )
    except BlobMissing:
        return _error(NotFound("This file's bytes are missing from storage."))
    except http_ranges.RangeNotSatisfiable as exc:
        response = _error(InvalidInput(f"The range is not satisfiable for the file's {exc.size} bytes."))
        response.status_code = 416
        response["Content-Range"] = exc.content_range
        return response


class VersionZipApi(APIView):
    """`GET /v2/{ot}/{kind}/{name}/versions/{v}/zip`: every file of a complete version in one zip
    (zip64, stored), streamed as it is written, for browsers."""

    @extend_schema(responses={(200, "application/zip"): OpenApiTypes.BINARY})
    def get(self, request: Request, org: str, kind: str, name: str, version: str, team: str | None = None) -> StreamingHttpResponse:
        found = _version(request, org, team, kind=kind, name=name, version=version)
        version_for_download(user=request.user, version=found)
        response = StreamingHttpResponse(version_zip_stream(found), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{found.artifact.name}_v{found.version}.zip"'
        return response
