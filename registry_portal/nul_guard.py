"""Requests whose path or query holds a NUL character are refused up front.

PostgreSQL text cannot hold NUL (U+0000), so a query parameter holding one (`?org-name=a%00b`)
would otherwise fail deep inside a lookup as a server error. Forms and DRF fields already refuse
NUL in bodies; this covers what views read from the URL. The answer is a 400 in the face's format.
"""
from collections.abc import Callable
from urllib.parse import unquote_plus

from django.http import HttpRequest, HttpResponse

from registry_portal.server_errors import bad_request


class NulGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or ("%00" in query.upper() and "\x00" in unquote_plus(query)):
            return bad_request(request, None)
        return self.get_response(request)
