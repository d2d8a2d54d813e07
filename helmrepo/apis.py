"""The NGC API's Helm chart endpoints (reference/ngc-api.md §5.6, guide 6.4-6.5), at the host root.

`{ot}` is `org/<org>` or `org/<org>/team/<team>`. As everywhere in the API: `org_space()` finds
the space (404 for what the caller may not see) and checks the token's scope; helmrepo.selectors
decide reads (404 without READ on HELM), helmrepo.services decide writes (403 when visible but not
allowed). Package push and pull are the Helm repository's (ChartMuseum-style) endpoints.
"""
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.views import APIView

from accounts.apis import org_space
from registry_portal.api import PAGE_PARAMETERS, ok, paginated, valid_body
from registry_portal.errors import InvalidInput
from helmrepo import selectors, services
from helmrepo.package_files import listed_files
from helmrepo.serializers import (
    CHART_BODY,
    CHART_FILES_BODY,
    CHART_VERSION_BODY,
    CHART_VERSIONS_BODY,
    ChartFileOutput,
    ChartInput,
    ChartOutput,
    ChartVersionOutput,
)

RESOLVE_LABELS = OpenApiParameter("resolve-labels", bool, description="accepted; labels are always plain strings")
SORT_ORDER = OpenApiParameter("sort-order", str, description="SEMVER_DESC (the only order: chart versions are SemVer 2)")


def _chart(request, org: str, team: str | None, name: str):
    return selectors.chart_in_space(request.user, org_space(request, org, team), name)


def _version(request, org, team, name, version):
    return selectors.chart_version(_chart(request, org, team, name), version)


class ChartListApi(APIView):
    """`POST /v2/{ot}/helm-charts`: create the chart record before any push (409 when the name is taken)."""

    @extend_schema(request=ChartInput, responses=CHART_BODY)
    def post(self, request, org: str, team: str | None = None):
        space = org_space(request, org, team)
        data = valid_body(ChartInput, request.data)
        name = data.validated_data.get("name")
        if not name:
            raise InvalidInput("name is required.", field="name")
        kwargs = data.service_kwargs()
        short = kwargs.pop("short_description", "")
        chart = services.chart_create(actor=request.user, space=space, name=name, short_description=short, **kwargs)
        return ok(artifact=ChartOutput(chart).data)


class ChartDetailApi(APIView):
    """`GET|PATCH|DELETE /v2/{ot}/helm-charts/<name>`; DELETE removes every version too."""

    @extend_schema(parameters=[RESOLVE_LABELS], responses=CHART_BODY)
    def get(self, request, org: str, name: str, team: str | None = None):
        return ok(artifact=ChartOutput(_chart(request, org, team, name)).data)

    @extend_schema(request=ChartInput, responses=CHART_BODY)
    def patch(self, request, org: str, name: str, team: str | None = None):
        chart = _chart(request, org, team, name)
        changes = valid_body(ChartInput, request.data, partial=True).service_kwargs()
        return ok(artifact=ChartOutput(services.chart_update(actor=request.user, chart=chart, **changes)).data)

    @extend_schema(responses=CHART_BODY)
    def delete(self, request, org: str, name: str, team: str | None = None):
        chart = _chart(request, org, team, name)
        body = ChartOutput(chart).data
        services.chart_delete(actor=request.user, chart=chart)
        return ok(artifact=body)


class VersionListApi(APIView):
    """`GET /v2/{ot}/helm-charts/<name>/versions`: paged `artifactVersions[]`, highest SemVer first."""

    @extend_schema(parameters=[*PAGE_PARAMETERS, SORT_ORDER], responses=CHART_VERSIONS_BODY)
    def get(self, request, org: str, name: str, team: str | None = None):
        chart = _chart(request, org, team, name)
        return paginated(request, selectors.chart_versions(chart), key="artifactVersions", serializer=ChartVersionOutput, artifact=ChartOutput(chart).data)


class VersionDetailApi(APIView):
    """`GET|DELETE /v2/{ot}/helm-charts/<name>/versions/<version>` (`artifactVersion`)."""

    @extend_schema(parameters=[RESOLVE_LABELS], responses=CHART_VERSION_BODY)
    def get(self, request, org: str, name: str, version: str, team: str | None = None):
        return ok(artifactVersion=ChartVersionOutput(_version(request, org, team, name, version)).data)

    @extend_schema(responses=CHART_VERSION_BODY)
    def delete(self, request, org: str, name: str, version: str, team: str | None = None):
        row = _version(request, org, team, name, version)
        body = ChartVersionOutput(row).data
        services.chart_version_delete(actor=request.user, version=row)
        return ok(artifactVersion=body)


class VersionFilesApi(APIView):
    """`GET /v2/{ot}/helm-charts/<name>/versions/<version>/files`: paged `artifactFiles[]` (path,
    sizeInBytes) from the listing stored at push time; the package is not opened."""

    @extend_schema(parameters=PAGE_PARAMETERS, responses=CHART_FILES_BODY)
    def get(self, request, org: str, name: str, version: str, team: str | None = None):
        row = _version(request, org, team, name, version)
        return paginated(request, listed_files(row), key="artifactFiles", serializer=ChartFileOutput)
