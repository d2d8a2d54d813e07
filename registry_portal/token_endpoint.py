"""`GET|POST /token?service=<service>&scope=...`: one endpoint, an issuer per service.

The endpoint reads the parameters (query string, plus form or JSON fields on POST), throttles the
caller and hands the request to the issuer `TOKEN_SERVICES` names for the service (a dotted path:
NGC's `ngc` → accounts, the registry's service name → artifacts.oci.auth). A service it does not
know goes to the `TOKEN_FALLBACK_SERVICE` issuer, which authenticates the caller before refusing
the name. Issuers take (request, service, params) and return the Response; a wrong API key is
answered with `invalid_key_response`, which counts it towards the caller's lockout.
"""
import hashlib

from django.conf import settings
from django.utils.module_loading import import_string
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from registry_portal.authorization import parse_authorization
from registry_portal.errors import error_body
from registry_portal.json_input import JSONParser
from registry_portal.throttling import FailOpenRateThrottle, FailureLockout, LockoutThrottle, client_ip

TOKEN_OUTPUT = inline_serializer("TokenOutput", {
    "token": serializers.CharField(), "expires_in": serializers.IntegerField(), "issued_at": serializers.CharField(),
})


# --- throttles: bad credentials per (client IP, Basic user name), and a generous rate per
# (client IP, credential) so one busy client cannot starve others behind the same address.


def token_failures() -> FailureLockout:
    return FailureLockout(
        "token", limit=settings.THROTTLE_TOKEN_FAILURE_LIMIT, window=settings.THROTTLE_TOKEN_FAILURE_WINDOW
    )


def token_failure_ident(request) -> str:
    return f"{client_ip(request)}|{parse_authorization(request).username}"


class TokenFailureThrottle(LockoutThrottle):
    def lockout(self) -> FailureLockout:
        return token_failures()

    def ident(self, request) -> str:
        return token_failure_ident(request)


class TokenRateThrottle(FailOpenRateThrottle):
    scope = "token"
    rate_setting = "THROTTLE_TOKEN_RATE"

    def get_cache_key(self, request, view) -> str:
        credential = hashlib.sha256(request.META.get("HTTP_AUTHORIZATION", "").encode()).hexdigest()
        return self.key_for(f"{client_ip(request)}|{credential}")


def invalid_key_response(request) -> Response:
    """401 for a missing or wrong API key; a presented wrong one counts towards the caller's lockout."""
    if request.META.get("HTTP_AUTHORIZATION"):
        token_failures().record_failure(token_failure_ident(request))
    return Response(
        error_body(401, "Invalid API key: authenticate with Basic '$oauthtoken:<your API key>'."),
        status=401,
        headers={"WWW-Authenticate": f'Basic realm="{settings.SITE_URL}/token"'},
    )


class TokenApi(APIView):
    """Exchange an API key (Basic `$oauthtoken:<API key>`) for a token of the named service."""

    authentication_classes = []
    permission_classes = [AllowAny]
    parser_classes = [FormParser, JSONParser]
    # Repeated bad keys lock the caller out for a while; any caller gets a generous rate (429 + Retry-After).
    throttle_classes = [TokenFailureThrottle, TokenRateThrottle]

    @extend_schema(
        parameters=[OpenApiParameter("service", str, required=True), OpenApiParameter("scope", str, many=True)],
        responses={200: TOKEN_OUTPUT},
    )
    def get(self, request):
        return self._issue(request, request.query_params)

    @extend_schema(
        request=inline_serializer("TokenRequest", {"service": serializers.CharField(), "scope": serializers.CharField()}),
        responses={200: TOKEN_OUTPUT},
    )
    def post(self, request):
        params = request.query_params.copy()
        if hasattr(request.data, "getlist"):
            for name in ("service", "scope"):
                for value in request.data.getlist(name):
                    params.appendlist(name, value)
        return self._issue(request, params)

    def _issue(self, request, params) -> Response:
        service = params.get("service") or ""
        path = settings.TOKEN_SERVICES.get(service) or settings.TOKEN_SERVICES[settings.TOKEN_FALLBACK_SERVICE]
        return import_string(path)(request, service, params)
