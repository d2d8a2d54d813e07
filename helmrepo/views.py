"""The Helm repository face: index.yaml, package downloads and the ChartMuseum-style push API.

Answers are what helm, helm cm-push and NVIDIA's client read: the index as YAML, packages as
application/gzip, and JSON `{"saved": true}` / `{"error": "..."}` from the API routes. A space the
caller may not see is a 404 (its existence is not leaked); no credentials is a 401 with a Basic
challenge, so `helm repo add` knows to send `$oauthtoken` and the API key.
"""
import re
from functools import wraps

from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from registry_portal.errors import AccessDenied, InvalidInput, NotFound, RegistryError
from accounts.permissions import Action, Space, get_space, require
from accounts.roles import Service
from artifacts.blobs.serve import BlobMissing, blob_response
from helmrepo import index, services
from accounts.authentication import token_reaches
from helmrepo.auth import Unauthenticated, authenticate, challenge
from helmrepo.models import SEMVER2_PATTERN, ChartVersion
from registry_portal.names import NAME_PATTERN
from registry_portal import http_ranges

_READ = 64 * 1024


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def helm_endpoint(*methods):
    """Authenticate, resolve the space (404 when hidden, or not reached by the token), map errors to JSON."""

    def decorate(view):
        @csrf_exempt
        @require_http_methods(list(methods))
        @wraps(view)
        def wrapper(request, org: str, team: str | None = None, **kwargs):
            try:
                user, claims = authenticate(request)
                space = get_space(user, org, team)
                if not token_reaches(claims, space):
                    raise AccessDenied(f"This token was not issued for {space.path}; request one with scope group/ngc:{space.path}.")
                return view(request, user, space, **kwargs)
            except Unauthenticated as error:
                response = _error(401, str(error))
                response["WWW-Authenticate"] = challenge()
                return response
            except RegistryError as error:
                return _error(error.status_code, error.message)

        return wrapper

    return decorate


@helm_endpoint("GET", "HEAD")
def index_yaml(request, user, space: Space):
    require(user, Action.READ, space, service=Service.HELM)
    return HttpResponse(index.index_yaml(space), content_type="application/x-yaml")


def _split_filename(filename: str) -> list[tuple[str, str]]:
    """Every (name, version) reading of `<name>-<version>.tgz` (both may contain '-')."""
    if not filename.endswith(".tgz"):
        return []
    stem = filename[: -len(".tgz")]
    pairs = []
    for match in re.finditer("-", stem):
        name, version = stem[: match.start()], stem[match.end():]
        if re.match(NAME_PATTERN, name) and re.match(SEMVER2_PATTERN, version):
            pairs.append((name, version))
    return pairs


@helm_endpoint("GET", "HEAD")
def package(request, user, space: Space, filename: str):
    require(user, Action.READ, space, service=Service.HELM)
    for name, version in _split_filename(filename):
        row = (
            ChartVersion.objects.select_related("package")
            .filter(chart__org=space.org, chart__team=space.team, chart__name=name, version=version)
            .first()
        )
        if row is not None:
            return _package_response(request, row, filename)
    return _error(404, f"Chart package '{filename}' not found in {space.path}.")


def _package_response(request, row: ChartVersion, filename: str):
    """The package's bytes, honouring Range (registry_portal/http_ranges.py) as the other downloads do."""
    try:
        return blob_response(request, digest=row.package.digest, size=row.package.size, content_type="application/gzip", filename=filename)
    except BlobMissing:
        return _error(404, f"Chart package '{filename}' is missing from storage.")
    except http_ranges.RangeNotSatisfiable as exc:
        response = _error(416, f"The range is not satisfiable for the package's {exc.size} bytes.")
        response["Content-Range"] = exc.content_range
        return response


def _force(request) -> bool:
    value = request.GET.get("force")
    return value is not None and value.lower() not in ("0", "false", "no")


def _request_chunks(request):
    """The package bytes: a multipart field `chart` (as helm cm-push sends) or the raw body."""
    if request.content_type == "multipart/form-data":
        upload = request.FILES.get("chart")
        if upload is None:
            raise InvalidInput("The multipart form has no 'chart' file field.")
        return upload.chunks(_READ)
    return iter(lambda: request.read(_READ), b"")


@helm_endpoint("POST")
def push(request, user, space: Space):
    require(user, Action.WRITE, space, service=Service.HELM)
    declared = request.META.get("CONTENT_LENGTH")
    if declared and declared.isdigit() and int(declared) > services.max_package_bytes() + 64 * 1024:
        return _error(413, f"The chart package is larger than {services.max_package_bytes()} bytes.")
    services.chart_version_push(actor=user, space=space, chunks=_request_chunks(request), force=_force(request))
    return JsonResponse({"saved": True}, status=201)


@helm_endpoint("DELETE")
def delete_version(request, user, space: Space, name: str, version: str):
    require(user, Action.READ, space, service=Service.HELM)
    row = ChartVersion.objects.select_related("chart").filter(
        chart__org=space.org, chart__team=space.team, chart__name=name, version=version
    ).first()
    if row is None:
        raise NotFound(f"Version '{version}' of Helm chart '{space.path}/{name}' not found.")
    row.chart.org, row.chart.team = space.org, space.team
    services.chart_version_delete(actor=user, version=row)
    return JsonResponse({"deleted": True})
