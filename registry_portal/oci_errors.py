"""The OCI distribution spec's error envelope `{"errors": [{"code", "message", "detail"}]}` and its codes
(the registry face's error format; beside registry_portal.errors, the NGC face's)."""
import json

from django.http import HttpResponse

# code -> (HTTP status, default message), from the spec's error code table.
CODES = {
    "BLOB_UNKNOWN": (404, "blob unknown to registry"),
    "BLOB_UPLOAD_INVALID": (400, "blob upload invalid"),
    "BLOB_UPLOAD_UNKNOWN": (404, "blob upload unknown to registry"),
    "DIGEST_INVALID": (400, "provided digest did not match uploaded content"),
    "MANIFEST_BLOB_UNKNOWN": (404, "manifest references a manifest or blob unknown to registry"),
    "MANIFEST_INVALID": (400, "manifest invalid"),
    "MANIFEST_UNKNOWN": (404, "manifest unknown to registry"),
    "NAME_INVALID": (400, "invalid repository name"),
    "NAME_UNKNOWN": (404, "repository name not known to registry"),
    "SIZE_INVALID": (400, "provided length did not match content length"),
    "UNAUTHORIZED": (401, "authentication required"),
    "DENIED": (403, "requested access to the resource is denied"),
    "UNSUPPORTED": (405, "the operation is unsupported"),
    "TOOMANYREQUESTS": (429, "too many requests"),
    "RANGE_INVALID": (416, "requested range not satisfiable"),
    # distribution's codes for an unexpected error and an outage (e.g. the database is down).
    "UNKNOWN": (500, "unknown error"),
    "UNAVAILABLE": (503, "service unavailable"),
}
API_VERSION_HEADER = ("Docker-Distribution-API-Version", "registry/2.0")


class OCIError(Exception):
    """Raised anywhere under a registry handler; the view layer turns it into the envelope."""

    def __init__(self, code: str, message: str | None = None, *, detail=None, status: int | None = None, headers=None):
        default_status, default_message = CODES[code]
        self.code = code
        self.status = status or default_status
        self.message = message or default_message
        self.detail = detail
        self.headers = dict(headers or {})
        super().__init__(f"{code}: {self.message}")


def error_response(error: OCIError) -> HttpResponse:
    # RANGE_INVALID is not a spec code; the spec answers 416 with BLOB_UPLOAD_INVALID.
    code = "BLOB_UPLOAD_INVALID" if error.code == "RANGE_INVALID" else error.code
    body = {"errors": [{"code": code, "message": error.message, "detail": error.detail}]}
    response = HttpResponse(json.dumps(body), status=error.status, content_type="application/json")
    response[API_VERSION_HEADER[0]] = API_VERSION_HEADER[1]
    for name, value in error.headers.items():
        response[name] = value
    return response
