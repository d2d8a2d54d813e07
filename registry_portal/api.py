"""The NGC API toolkit every app's API views share: success bodies, NGC pagination, schema helpers.

NVIDIA's client (reference/ngc-api.md) needs a JSON body on every 2xx and pages with `page-size`
and a 0-based `page-number`, answered with `paginationInfo`. Errors live in registry_portal.errors.
"""
import uuid

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers as drf_serializers
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from registry_portal.errors import InvalidInput


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Tells the OpenAPI schema about `/token`'s Bearer tokens."""

    target_class = "accounts.authentication.BearerTokenAuthentication"
    name = "ngcBearer"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT from /token"}


def ok(status: int = 200, **payload) -> Response:
    """A success body: NVIDIA's client needs JSON on every 2xx, `requestStatus` is customary."""
    body = {"requestStatus": {"statusCode": "SUCCESS", "requestId": uuid.uuid4().hex}}
    body.update(payload)
    return Response(body, status=status)


def valid_body(serializer_class: type[drf_serializers.Serializer], data, *, partial: bool = False) -> drf_serializers.Serializer:
    """The request body checked by an input serializer: a JSON object, or InvalidInput."""
    if not isinstance(data, dict):
        raise InvalidInput("The request body must be a JSON object.")
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return serializer


def int_param(request, name: str, default: int) -> int:
    """A non-negative whole-number query parameter, or a 400 naming it."""
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number.", field=name) from None
    if value < 0:
        raise InvalidInput(f"{name} must not be negative.", field=name)
    return value


class NgcPagination(BasePagination):
    """NGC's paging: `page-size` (default 100, at most 1000) and 0-based `page-number` in,
    `paginationInfo` out. A page past the end is empty, not an error: NVIDIA's client over-counts
    pages by one. Works on querysets (one COUNT, one sliced SELECT) and on lists."""

    max_page_size = 1000
    default_page_size = 100

    def paginate_queryset(self, queryset, request, view=None) -> list:
        self.size = min(int_param(request, "page-size", self.default_page_size) or self.default_page_size, self.max_page_size)
        self.index = int_param(request, "page-number", 0)
        self.total = len(queryset) if isinstance(queryset, list) else queryset.count()
        start = self.index * self.size
        return list(queryset[start : start + self.size]) if start < self.total else []

    @property
    def info(self) -> dict:
        return {
            "index": self.index,
            "size": self.size,
            "totalResults": self.total,
            "totalPages": (self.total + self.size - 1) // self.size,
        }

    def get_paginated_response(self, data, *, key: str = "results", **extra) -> Response:
        return ok(**extra, **{key: data, "paginationInfo": self.info})


def paginated(request, queryset, *, key: str, serializer, prepare=None, **extra) -> Response:
    """One page of `queryset` as `{key: [...], paginationInfo}`, plus any `extra` top-level fields.

    `serializer` is a serializer class or a function of one row; `prepare(rows)`, if given, may
    attach batch-loaded data to the page's rows before serializing.
    """
    pager = NgcPagination()
    rows = pager.paginate_queryset(queryset, request)
    if prepare is not None:
        rows = prepare(rows)
    if isinstance(serializer, type) and issubclass(serializer, drf_serializers.BaseSerializer):
        data = serializer(rows, many=True).data
    else:
        data = [serializer(row) for row in rows]
    return pager.get_paginated_response(data, key=key, **extra)


PAGE_PARAMETERS = [
    OpenApiParameter("page-size", OpenApiTypes.INT, description=f"rows per page (default {NgcPagination.default_page_size})"),
    OpenApiParameter("page-number", OpenApiTypes.INT, description="0-based page index"),
]


# The OpenAPI shape of NgcPagination.info.
PAGINATION_INFO = inline_serializer(
    "PaginationInfo",
    {
        "index": drf_serializers.IntegerField(),
        "size": drf_serializers.IntegerField(),
        "totalResults": drf_serializers.IntegerField(),
        "totalPages": drf_serializers.IntegerField(),
    },
)


def ok_schema(name: str, fields: dict) -> drf_serializers.Serializer:
    """The OpenAPI body `ok(**fields)` answers: `requestStatus` and the given fields."""
    return inline_serializer(name, {"requestStatus": drf_serializers.DictField(), **fields})


def pagination_schema(name: str, key: str, item, **extra) -> drf_serializers.Serializer:
    """The OpenAPI body of a paginated response: `{key: [item...], paginationInfo}` plus `extra` fields."""
    return ok_schema(name, {key: item(many=True), **extra, "paginationInfo": PAGINATION_INFO})


def wrapped_schema(name: str, key: str, item) -> drf_serializers.Serializer:
    """The OpenAPI body of `ok(key=item)`."""
    return ok_schema(name, {key: item()})


STATUS_ONLY = ok_schema("RequestStatus", {})
