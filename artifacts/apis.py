"""The NGC API's container endpoints (reference/ngc-api.md §5.5, §5.7), at the host root.

`{ot}` is `org/<org>` or `org/<org>/team/<team>`. As in accounts/apis.py: `org_space()` finds the
space (404 for what the caller may not see) and checks the token's scope, the selectors decide
what may be read (team repositories are invisible outside the team; without READ on CONTAINER
only public ones), the services decide writes (403 when visible but not allowed).
"""
import re

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers as drf_serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.apis import org_space
from registry_portal.api import PAGE_PARAMETERS, STATUS_ONLY, ok, paginated, pagination_schema, valid_body
from registry_portal.errors import InvalidInput, NotFound
from artifacts import selectors, services
from artifacts.gpu import selectors as gpu_selectors
from artifacts.versioned import search as versioned_search
from artifacts.serializers import (
    ImageOutput,
    RepositoryCreateInput,
    RepositoryListOutput,
    RepositoryMetadataInput,
    architecture_variants,
    RepositoryBody,
    RepositoryDetailOutput,
    search_resource,
)
from artifacts.core import kinds
from registry_portal import json_input

RESOLVE_LABELS = OpenApiParameter("resolve-labels", bool, description="accepted; labels are always plain strings")


def _repository(request, org: str, team: str | None, repo: str):
    space = org_space(request, org, team)
    return selectors.repository_in_space(request.user, space, repo)


def _detail(request, repository) -> Response:
    tags = selectors.describe_tags(selectors.repository_tags(repository))
    latest = selectors.pick_latest(repository, tags)
    return ok(**RepositoryDetailOutput(repository, context={"tags": tags, "latest": latest}).data)


class RepositoryListApi(APIView):
    """`GET /v2/{ot}/repos[?name=<glob>]` (paged `repositories`) and `POST` (a metadata record before any push)."""

    @extend_schema(
        parameters=[*PAGE_PARAMETERS, OpenApiParameter("name", str, description="shell-style pattern, e.g. app*")],
        responses=pagination_schema("RepositoryList", "repositories", RepositoryListOutput),
    )
    def get(self, request, org: str, team: str | None = None):
        space = org_space(request, org, team)
        rows = selectors.container_repositories(request.user, space)
        pattern = request.query_params.get("name")
        if request.query_params.get("runs_on"):  # only images compatible with that GPU host of the org
            rows = gpu_selectors.runs_on(rows, space.org, request.query_params["runs_on"])
        if pattern:
            rows = selectors.matching_glob(rows, pattern)
        return paginated(
            request, rows, key="repositories", serializer=RepositoryListOutput, prepare=selectors.attach_latest_sizes,
        )

    @extend_schema(request=RepositoryCreateInput, responses=RepositoryBody)
    def post(self, request, org: str, team: str | None = None):
        space = org_space(request, org, team)
        data = valid_body(RepositoryCreateInput, request.data)
        kwargs = data.service_kwargs()
        path = data.validated_data["name"]
        repository = services.repository_create(actor=request.user, space=space, path=path, **kwargs)
        return _detail(request, repository)


class RepositoryDetailApi(APIView):
    """`GET|PATCH|DELETE /v2/{ot}/repos/<repo>` (the name may be nested: `a/b`)."""

    @extend_schema(parameters=[RESOLVE_LABELS], responses=RepositoryBody)
    def get(self, request, org: str, repo: str, team: str | None = None):
        return _detail(request, _repository(request, org, team, repo))

    @extend_schema(request=RepositoryMetadataInput, responses=RepositoryBody)
    def patch(self, request, org: str, repo: str, team: str | None = None):
        repository = _repository(request, org, team, repo)
        changes = valid_body(RepositoryMetadataInput, request.data).service_kwargs()
        updated = services.repository_update(actor=request.user, repository=repository, **changes)
        return _detail(request, updated)

    @extend_schema(responses=STATUS_ONLY)
    def delete(self, request, org: str, repo: str, team: str | None = None):
        services.repository_delete(actor=request.user, repository=_repository(request, org, team, repo))
        return ok()


class ImageListApi(APIView):
    """`GET /v2/{ot}/repos/<repo>/images`: paged `images[]`, the tag pushed last first."""

    @extend_schema(parameters=PAGE_PARAMETERS, responses=pagination_schema("ImageList", "images", ImageOutput))
    def get(self, request, org: str, repo: str, team: str | None = None):
        repository = _repository(request, org, team, repo)
        return paginated(
            request, selectors.repository_tags(repository), key="images", serializer=ImageOutput,
            prepare=selectors.describe_tags,
        )


def _tag(repository, tag: str):
    row = selectors.repository_tags(repository).filter(name=tag).first()
    if row is None:
        raise NotFound(f"Tag '{tag}' not found in repository '{repository.name}'.")
    return selectors.describe_tags([row])[0]


class ImageDetailApi(APIView):
    """`GET /v2/{ot}/repos/<repo>/images/<tag>` (the image, GetManifestByTagResponse) and `DELETE` (remove the tag)."""

    @extend_schema(responses=ImageOutput)
    def get(self, request, org: str, repo: str, tag: str, team: str | None = None):
        repository = _repository(request, org, team, repo)
        row = _tag(repository, tag)
        variants = architecture_variants(row)
        return ok(
            name=repository.name, schemaVersion=2, architecture=variants[0]["architecture"] if variants else "",
            **ImageOutput(row).data,
            gpuCompatibility=gpu_selectors.compatibility(request.user, repository, row),
        )

    @extend_schema(responses=STATUS_ONLY)
    def delete(self, request, org: str, repo: str, tag: str, team: str | None = None):
        services.tag_delete(actor=request.user, repository=_repository(request, org, team, repo), tag=tag)
        return ok()


class TagDetailApi(APIView):
    """`GET /v2/{ot}/repos/<repo>/tags/<tag>` (MetaImageDetails) and `PATCH …?set-latest=true` with body `{}`."""

    @extend_schema(responses=ImageOutput)
    def get(self, request, org: str, repo: str, tag: str, team: str | None = None):
        repository = _repository(request, org, team, repo)
        row = _tag(repository, tag)
        latest = selectors.latest_tag(repository)
        return ok(**ImageOutput(row).data, isLatest=latest is not None and latest.pk == row.pk)

    @extend_schema(parameters=[OpenApiParameter("set-latest", bool)], request=None, responses=ImageOutput)
    def patch(self, request, org: str, repo: str, tag: str, team: str | None = None):
        repository = _repository(request, org, team, repo)
        if request.data and not isinstance(request.data, dict):
            raise InvalidInput("The request body must be a JSON object.")
        if request.query_params.get("set-latest", "").lower() == "true":
            repository = services.tag_set_latest(actor=request.user, repository=repository, tag=tag)
        row = _tag(repository, tag)
        latest = selectors.latest_tag(repository)
        return ok(**ImageOutput(row).data, isLatest=latest is not None and latest.pk == row.pk)


# --- search (all wildcard `list` commands) ------------------------------------------------------

SEARCH_TYPES = ("CONTAINER", "MODEL", "RECIPE", "HELM_CHART", "COLLECTION")
RESOURCE_ID = re.compile(r"resourceId:(\S+)")
MAX_SEARCH_PAGE = 1000


def _search_params(request) -> tuple[str, int, int]:
    """(glob, page, page size) of the `q` JSON: `{"query":"resourceId:acme/*","page":0,"pageSize":100}`."""
    raw = request.query_params.get("q")
    params = {}
    if raw:
        try:
            params = json_input.loads(raw)
        except ValueError:
            raise InvalidInput("q must be a JSON object.", field="q") from None
        if not isinstance(params, dict):
            raise InvalidInput("q must be a JSON object.", field="q")
    match = RESOURCE_ID.search(str(params.get("query") or ""))
    try:
        page = max(int(params.get("page") or 0), 0)
        size = min(max(int(params.get("pageSize") or 100), 1), MAX_SEARCH_PAGE)
    except (TypeError, ValueError):
        raise InvalidInput("page and pageSize must be whole numbers.", field="q") from None
    return (match[1] if match else "*"), page, size


def _search_response(resource_type: str, resources: list, total: int, size: int) -> Response:
    return Response({
        "results": [{"groupValue": resource_type, "totalCount": total, "resources": resources}] if resources else [],
        "resultTotal": total,
        "resultPageTotal": (total + size - 1) // size,
    })


class SearchApi(APIView):
    """`GET /v2/search/org/<org>[/team/<team>]/resources/<TYPE>?q=…`. CONTAINER lists the
    repositories the caller may see whose full name matches the `resourceId:` glob (an org search
    includes the caller's teams); the other kinds answer no results until they are served here."""

    @extend_schema(parameters=[OpenApiParameter("q", str)], responses=inline_serializer("Search", {"results": drf_serializers.ListField()}))
    def get(self, request, org: str, resource_type: str, team: str | None = None):
        space = org_space(request, org, team)
        if resource_type not in SEARCH_TYPES:
            raise NotFound(f"Unknown resource type '{resource_type}'.")
        pattern, page, size = _search_params(request)
        if resource_type in versioned_search.KIND_OF_SEARCH_TYPE:  # MODEL, RECIPE
            hits, total = versioned_search.search(request.user, space, resource_type, pattern, page, size)
            return _search_response(resource_type, hits, total, size)
        if resource_type in kinds.SEARCHES:  # HELM_CHART, from helmrepo
            hits, total = kinds.SEARCHES[resource_type](request.user, space, pattern, page, size)
            return _search_response(resource_type, hits, total, size)
        if resource_type != "CONTAINER":
            return _search_response(resource_type, [], 0, size)
        rows = selectors.matching_glob(selectors.searchable_repositories(request.user, space), pattern, full_name=True)
        total = rows.count()
        hits = selectors.attach_latest_sizes(rows[page * size : (page + 1) * size]) if page * size < total else []
        return _search_response(resource_type, [search_resource(r) for r in hits], total, size)


class CatalogSearchApi(APIView):
    """`GET /v2/search/catalog/resources/<TYPE>` and `/v2/search/subscriber/catalog/resources/<TYPE>`:
    there is no public or subscriber catalog here, and NVIDIA's client fails `list` on a 404, so
    every kind answers an empty result."""

    permission_classes = [AllowAny]

    @extend_schema(parameters=[OpenApiParameter("q", str)], responses=inline_serializer("CatalogSearch", {"results": drf_serializers.ListField()}))
    def get(self, request, resource_type: str):
        return Response({"results": [], "resultTotal": 0, "resultPageTotal": 0})
