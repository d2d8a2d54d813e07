"""The NGC API's model and resource endpoints (reference/ngc-api.md §5.2), at the host root.

`{ot}` is `org/<org>` or `org/<org>/team/<team>`, `{kind}` is `models` or `resources` (passed by
the route as `kind`). As everywhere in the API: `org_space()` finds the space (404 for what the
caller may not see) and checks the token's scope; selectors decide reads (404 without READ on
the kind's service), services decide writes (403 when visible but not allowed). Upload and
download of files are in transfer_apis.py.
"""
from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from accounts.apis import org_space
from registry_portal.api import PAGE_PARAMETERS, STATUS_ONLY, ok, paginated, valid_body, wrapped_schema
from registry_portal.errors import InvalidInput
from artifacts.versioned import selectors, services
from artifacts.versioned.models import VersionStatus
from artifacts.versioned.transfers import finalize
from artifacts.versioned.serializers import (
    ARTIFACT_BODY,
    FILES_BODY,
    VERSION_BODY,
    VERSIONS_BODY,
    ArtifactInput,
    FileOutput,
    ArtifactOutput,
    VersionInput,
    VersionOutput,
    json_key,
)

RESOLVE_LABELS = OpenApiParameter("resolve-labels", bool, description="accepted; labels are always plain strings")
SORT_ORDER = OpenApiParameter("sort-order", str, description="SEMVER_DESC: SemVer precedence, non-SemVer after")
SET_LATEST = OpenApiParameter("set-latest", bool, description="accepted; the latest is the highest complete version")


def _artifact(request, org: str, team: str | None, kind: str, name: str):
    space = org_space(request, org, team)
    return selectors.artifact_in_space(request.user, space, kind, name)


def _version(request, org, team, kind, name, version):
    return selectors.version_of(_artifact(request, org, team, kind, name), version)


def _one(artifact):
    return ok(**{json_key(artifact.kind, "one"): ArtifactOutput(artifact).data})


def _one_version(version):
    return ok(**{json_key(version.artifact.kind, "version"): VersionOutput(version).data})


class ArtifactListApi(APIView):
    """`POST /v2/{ot}/{kind}`: create a model or resource (409 when the name is taken)."""

    @extend_schema(operation_id="versioned_artifact_create", request=ArtifactInput, responses=ARTIFACT_BODY)
    def post(self, request, org: str, kind: str, team: str | None = None):
        space = org_space(request, org, team)
        data = valid_body(ArtifactInput, request.data)
        name = data.validated_data.get("name")
        if not name:
            raise InvalidInput("name is required.", field="name")
        artifact = services.artifact_create(actor=request.user, space=space, kind=kind, name=name, **data.service_kwargs())
        return _one(artifact)


class ArtifactDetailApi(APIView):
    """`GET|PATCH|DELETE /v2/{ot}/{kind}/<name>`."""

    @extend_schema(operation_id="versioned_artifact_detail", parameters=[RESOLVE_LABELS], responses=ARTIFACT_BODY)
    def get(self, request, org: str, kind: str, name: str, team: str | None = None):
        return _one(_artifact(request, org, team, kind, name))

    @extend_schema(operation_id="versioned_artifact_update", request=ArtifactInput, responses=ARTIFACT_BODY)
    def patch(self, request, org: str, kind: str, name: str, team: str | None = None):
        artifact = _artifact(request, org, team, kind, name)
        changes = valid_body(ArtifactInput, request.data, partial=True).service_kwargs()
        return _one(services.artifact_update(actor=request.user, artifact=artifact, **changes))

    @extend_schema(operation_id="versioned_artifact_delete", responses=STATUS_ONLY)
    def delete(self, request, org: str, kind: str, name: str, team: str | None = None):
        services.artifact_delete(actor=request.user, artifact=_artifact(request, org, team, kind, name))
        return ok()


class VersionListApi(APIView):
    """`GET /v2/{ot}/{kind}/<name>/versions` (paged, `sort-order=SEMVER_DESC`) and `POST` (create a
    version; 409 when it exists, and NVIDIA's client then GETs it to resume)."""

    @extend_schema(operation_id="versioned_artifact_versions", parameters=[*PAGE_PARAMETERS, SORT_ORDER], responses=VERSIONS_BODY)
    def get(self, request, org: str, kind: str, name: str, team: str | None = None):
        artifact = _artifact(request, org, team, kind, name)
        rows = selectors.artifact_versions(artifact, sort_order=request.query_params.get("sort-order"))
        return paginated(
            request, rows, key=json_key(kind, "versions"), serializer=VersionOutput,
            **{json_key(kind, "one"): ArtifactOutput(artifact).data},
        )

    @extend_schema(operation_id="versioned_artifact_version_create", request=VersionInput, responses=VERSION_BODY)
    def post(self, request, org: str, kind: str, name: str, team: str | None = None):
        artifact = _artifact(request, org, team, kind, name)
        data = valid_body(VersionInput, request.data)
        version = services.version_create(
            actor=request.user, artifact=artifact, version=data.validated_data.get("versionId"), **data.version_kwargs()
        )
        docs = data.docs_kwargs()
        if docs:
            version.artifact = services.artifact_update(actor=request.user, artifact=artifact, **docs)
        return _one_version(version)


class VersionDetailApi(APIView):
    """`GET|PATCH|DELETE /v2/{ot}/{kind}/<name>/versions/<version>`; a PATCH with
    `"status": "UPLOAD_COMPLETE"` asks the transfer layer to verify and complete the version."""

    @extend_schema(operation_id="versioned_artifact_version_detail", responses=VERSION_BODY)
    def get(self, request, org: str, kind: str, name: str, version: str, team: str | None = None):
        return _one_version(_version(request, org, team, kind, name, version))

    @extend_schema(operation_id="versioned_artifact_version_update", parameters=[SET_LATEST], request=VersionInput, responses=VERSION_BODY)
    def patch(self, request, org: str, kind: str, name: str, version: str, team: str | None = None):
        row = _version(request, org, team, kind, name, version)
        data = valid_body(VersionInput, request.data, partial=True)
        status = data.validated_data.get("status")
        if status not in (None, VersionStatus.UPLOAD_COMPLETE):
            raise InvalidInput("status may only be set to UPLOAD_COMPLETE.", field="status")
        artifact = row.artifact
        row = services.version_update(actor=request.user, version=row, **data.version_kwargs())
        docs = data.docs_kwargs()
        if docs:
            artifact = services.artifact_update(actor=request.user, artifact=artifact, **docs)
        if status == VersionStatus.UPLOAD_COMPLETE:
            # Read-after-upload: answer the final state (bounded wait when a worker must re-hash).
            row = finalize.version_request_completion(version=row, actor=request.user)
            row = finalize.version_await_final(row, timeout=settings.VERSION_COMPLETION_WAIT_SECONDS)
        row.artifact = artifact
        return _one_version(row)

    @extend_schema(operation_id="versioned_artifact_version_delete", responses=STATUS_ONLY)
    def delete(self, request, org: str, kind: str, name: str, version: str, team: str | None = None):
        services.version_delete(actor=request.user, version=_version(request, org, team, kind, name, version))
        return ok()


class VersionFilesApi(APIView):
    """`GET /v2/{ot}/{kind}/<name>/versions/<version>/files`: paged `modelFiles[]` (path, sizeInBytes, sha256)."""

    @extend_schema(operation_id="versioned_artifact_version_files", parameters=PAGE_PARAMETERS, responses=FILES_BODY)
    def get(self, request, org: str, kind: str, name: str, version: str, team: str | None = None):
        row = _version(request, org, team, kind, name, version)
        return paginated(request, selectors.version_files(row), key=json_key(kind, "files"), serializer=FileOutput)


class LabelSetListApi(APIView):
    """`GET /v2/search/labelsets?resource-type=MODEL|RECIPE|…`: the global label sets. NVIDIA's client
    reads them before every create or update with `--label`, to map a label to its set; this
    registry has no label sets, so labels stay plain strings."""

    @extend_schema(
        operation_id="label_sets_list",
        parameters=[OpenApiParameter("resource-type", str, description="accepted; there are no label sets")],
        responses=wrapped_schema("LabelSets", "labelSets", lambda: serializers.ListField(child=serializers.DictField())),
    )
    def get(self, request):
        return ok(labelSets=[])
