"""The one answer for errors nothing else handled (handler500, and handler400/403/404 for a path
no route or view answered, in every URLconf), in the format of the face the request came to: the OCI envelope on registry routes, NGC JSON on the NGC API and
/token, Helm's JSON under /helm/ (and on HELM_HOST), a page on the portal. Never a stack trace
or a secret in the body: Django logs the exception (django.request), and the NGC answer's
requestId is logged with it so a user's report can be matched to the log.

The database not answering (OperationalError/InterfaceError, e.g. PostgreSQL down; connecting
gives up after DATABASE_CONNECT_TIMEOUT) is a 503 with Retry-After rather than a 500. This
module renders without the database: no user, no session, no context processors.
"""
import logging
import sys

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.urls import Resolver404, get_resolver
from django.views import defaults

from registry_portal.errors import error_body
from registry_portal.oci_errors import OCIError, error_response

log = logging.getLogger(__name__)

REGISTRY, NGC, HELM, PORTAL = "registry", "ngc", "helm", "portal"
NGC_PREFIXES = ("/v2/", "/v3/", "/api/")
NGC_PATHS = ("/token", "/roles")
HELM_HOST_URLCONF = "registry_portal.helm_host_urls"


def face_of(request) -> str:
    """Which face a path belongs to, decided from the path alone (the failure may have happened
    before URL resolution, e.g. while a middleware loaded the session)."""
    path = request.path_info
    if getattr(request, "urlconf", None) == HELM_HOST_URLCONF or path.startswith("/helm/"):
        return HELM
    if path.startswith("/v2/"):
        try:
            # The registry's own route table decides, as in artifacts.oci.middleware.
            get_resolver("artifacts.oci.protocol_urls").resolve(path)
            return REGISTRY
        except Resolver404:
            return NGC
    if path.startswith(NGC_PREFIXES) or path in NGC_PATHS:
        return NGC
    return PORTAL


def server_error(request) -> HttpResponse:
    exc = sys.exc_info()[1]
    unavailable = isinstance(exc, (OperationalError, InterfaceError))
    status = 503 if unavailable else 500
    message = (
        "The service is temporarily unavailable (its database does not answer); try again shortly."
        if unavailable
        else "The server could not complete the request; if it keeps happening, tell your administrator."
    )
    face = face_of(request)
    if face == REGISTRY:
        response = error_response(OCIError("UNAVAILABLE" if unavailable else "UNKNOWN", message))
    elif face == NGC:
        body = error_body(status, message, status="SERVICE_UNAVAILABLE" if unavailable else "INTERNAL_ERROR")
        log.error("%s %s answered %d, requestId %s", request.method, request.path, status, body["requestStatus"]["requestId"])
        response = JsonResponse(body, status=status)
    elif face == HELM:
        response = JsonResponse({"error": message}, status=status)
    else:
        template = "503.html" if unavailable else "500.html"
        context = {"retry_after": settings.DATABASE_RETRY_AFTER_SECONDS}
        response = HttpResponse(render_to_string(template, context), status=status)
    if unavailable:
        response["Retry-After"] = str(settings.DATABASE_RETRY_AFTER_SECONDS)
    return response


_CLIENT_ERRORS = {
    400: ("Bad request.", defaults.bad_request),
    403: ("Access denied.", defaults.permission_denied),
    404: ("Not found: no such endpoint or object.", defaults.page_not_found),
}


def _client_error(request, exception, *, status: int) -> HttpResponse:
    """A 4xx raised outside a face's own handlers (an unrouted API path, a request Django refuses
    before any view): the face's format on the APIs, the portal's page elsewhere."""
    message, portal_view = _CLIENT_ERRORS[status]
    face = face_of(request)
    if face == REGISTRY:
        return error_response(OCIError("DENIED" if status == 403 else "UNKNOWN", message, status=status))
    if face == NGC:
        return JsonResponse(error_body(status, message), status=status)
    if face == HELM:
        return JsonResponse({"error": message}, status=status)
    return portal_view(request, exception)


def bad_request(request, exception) -> HttpResponse:
    return _client_error(request, exception, status=400)


def permission_denied(request, exception) -> HttpResponse:
    return _client_error(request, exception, status=403)


def page_not_found(request, exception) -> HttpResponse:
    return _client_error(request, exception, status=404)
