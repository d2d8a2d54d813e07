"""The NGC API's GPU-host endpoints (docs/gpu-hosts.md), JSON like accounts/apis.py.

`GET|POST /v2/org/<org>/gpu-hosts`, `GET|PATCH|PUT|DELETE /v2/org/<org>/gpu-hosts/<name>` (PUT
creates or replaces the reported fields: what `ngc gpuhost report` sends), and
`POST /v2/{ot}/repos/<repo>/images/<tag>/gpu-check` (re-check an image now, in the background).
"""
from drf_spectacular.utils import extend_schema
from rest_framework import serializers as drf_serializers
from rest_framework.views import APIView

from accounts.apis import org_space
from registry_portal.api import PAGE_PARAMETERS, STATUS_ONLY, ok, ok_schema, paginated, pagination_schema, wrapped_schema
from registry_portal.errors import InvalidInput, NotFound
from accounts.serializers import NgcDateTimeField
from artifacts import selectors as artifact_selectors
from artifacts.gpu import selectors, services, tasks

WIRE_FIELDS = {
    "architecture": "architecture", "variant": "variant", "os": "os", "driverVersion": "driver_version",
    "cudaVersion": "cuda_version", "gpus": "gpus", "labels": "labels",
}


class GpuOutput(drf_serializers.Serializer):
    name = drf_serializers.CharField()
    computeCapability = drf_serializers.CharField()
    brand = drf_serializers.CharField()


class GpuHostOutput(drf_serializers.Serializer):
    name = drf_serializers.CharField()
    org = drf_serializers.CharField(source="org.name")
    architecture = drf_serializers.CharField()
    variant = drf_serializers.CharField()
    os = drf_serializers.CharField()
    driverVersion = drf_serializers.CharField(source="driver_version")
    cudaVersion = drf_serializers.CharField(source="cuda_version")
    gpus = GpuOutput(many=True)
    labels = drf_serializers.ListField(child=drf_serializers.CharField())
    createdDate = NgcDateTimeField(source="created_at")
    updatedDate = NgcDateTimeField(source="updated_at")


HOST = wrapped_schema("GpuHostBody", "gpuHost", GpuHostOutput)
HOSTS = pagination_schema("GpuHostList", "gpuHosts", GpuHostOutput)
# `gpuCompatibility[]`: artifacts.gpu.selectors.verdict_payload, one per host and platform.
COMPATIBILITY = ok_schema("GpuCompatibility", {"gpuCompatibility": drf_serializers.ListField(child=drf_serializers.DictField())})


def _fields(data, *, allow_name: bool = False) -> dict:
    if not isinstance(data, dict):
        raise InvalidInput("The request body must be a JSON object.")
    unknown = set(data) - set(WIRE_FIELDS) - ({"name"} if allow_name else set())
    if unknown:
        raise InvalidInput(f"Unknown fields: {', '.join(sorted(unknown))}.")
    return {WIRE_FIELDS[key]: value for key, value in data.items() if key in WIRE_FIELDS}


def _host_response(host, status: int = 200):
    return ok(status, gpuHost=GpuHostOutput(host).data)


class GpuHostListApi(APIView):
    """`GET /v2/org/<org>/gpu-hosts` (paged `gpuHosts`, any org member) and `POST` (Registry Admin)."""

    @extend_schema(parameters=PAGE_PARAMETERS, responses=HOSTS)
    def get(self, request, org: str):
        space = org_space(request, org)
        return paginated(request, selectors.org_hosts(space.org), key="gpuHosts", serializer=GpuHostOutput)

    @extend_schema(request=HOST, responses=HOST)
    def post(self, request, org: str):
        space = org_space(request, org)
        name = request.data.get("name") if isinstance(request.data, dict) else None
        host = services.host_create(actor=request.user, org=space.org, name=name, **_fields(request.data, allow_name=True))
        return _host_response(host, 201)


class GpuHostDetailApi(APIView):
    """`GET|PATCH|PUT|DELETE /v2/org/<org>/gpu-hosts/<name>`."""

    @extend_schema(responses=HOST)
    def get(self, request, org: str, name: str):
        space = org_space(request, org)
        return _host_response(services.host_get(space.org, name))

    @extend_schema(request=HOST, responses=HOST)
    def patch(self, request, org: str, name: str):
        space = org_space(request, org)
        host = services.host_get(space.org, name)
        return _host_response(services.host_update(actor=request.user, host=host, **_fields(request.data)))

    @extend_schema(request=HOST, responses=HOST)
    def put(self, request, org: str, name: str):
        space = org_space(request, org)
        host, created = services.host_upsert(actor=request.user, org=space.org, name=name, **_fields(request.data))
        return _host_response(host, 201 if created else 200)

    @extend_schema(responses=STATUS_ONLY)
    def delete(self, request, org: str, name: str):
        space = org_space(request, org)
        services.host_delete(actor=request.user, host=services.host_get(space.org, name))
        return ok()


class GpuCheckApi(APIView):
    """`POST /v2/{ot}/repos/<repo>/images/<tag>/gpu-check`: queue a check of the image on every host of
    the org (202 with the verdicts stored so far); `GET` answers those verdicts."""

    def _tag(self, request, org, repo, tag, team):
        space = org_space(request, org, team)
        repository = artifact_selectors.repository_in_space(request.user, space, repo)
        row = artifact_selectors.repository_tags(repository).filter(name=tag).first()
        if row is None:
            raise NotFound(f"Tag '{tag}' not found in repository '{repository.name}'.")
        return repository, row

    @extend_schema(request=None, responses={202: COMPATIBILITY})
    def post(self, request, org: str, repo: str, tag: str, team: str | None = None):
        repository, row = self._tag(request, org, repo, tag, team)
        tasks.enqueue(tasks.check_manifest, row.manifest_id)
        return ok(202, gpuCompatibility=selectors.compatibility(request.user, repository, row))

    @extend_schema(responses=COMPATIBILITY)
    def get(self, request, org: str, repo: str, tag: str, team: str | None = None):
        repository, row = self._tag(request, org, repo, tag, team)
        return ok(gpuCompatibility=selectors.compatibility(request.user, repository, row))
