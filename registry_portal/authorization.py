"""The one reader of the Authorization header, for every face (NGC API, /token, registry, Helm).

Basic `<user>:<password>` (clients send `$oauthtoken:<API key>`) and Bearer `<token>`; what the
credentials prove is each face's business (accounts.authentication, artifacts.oci.auth, helmrepo.auth).
"""
import base64
import binascii
from dataclasses import dataclass

BASIC, BEARER = "basic", "bearer"


@dataclass(frozen=True)
class Authorization:
    scheme: str = ""  # lower-case ("basic", "bearer", another one); "" without the header
    credentials: str = ""  # what follows the scheme, stripped (a Bearer token, Basic's base64)
    username: str = ""  # Basic only, decoded
    password: str = ""
    malformed: bool = False  # Basic whose credentials are not base64 of UTF-8

    @property
    def present(self) -> bool:
        return bool(self.scheme or self.credentials)


def parse_authorization(request) -> Authorization:
    """The request's Authorization header, parsed (Django or DRF request)."""
    scheme, _, credentials = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    scheme, credentials = scheme.lower(), credentials.strip()
    if scheme != BASIC or not credentials:
        return Authorization(scheme, credentials)
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return Authorization(scheme, credentials, malformed=True)
    username, _, password = decoded.partition(":")
    return Authorization(scheme, credentials, username, password)
