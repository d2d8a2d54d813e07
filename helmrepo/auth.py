"""Who is calling the Helm repository endpoints.

`helm repo add --username '$oauthtoken' --password <API key>` sends Basic credentials on every
request (guide 6.6.1); NVIDIA's client sends the Bearer tokens `/token` issues (audience "ngc"),
whose group scopes, when present, narrow the spaces they reach. A signed-in portal session is
accepted for downloads (GET) only, so the endpoints need no CSRF protection.
"""
import base64
import binascii

from django.conf import settings

from accounts.apis import scope_covers
from accounts.authentication import NGC_AUDIENCE, token_user
from accounts.models import User
from accounts.permissions import Space
from accounts.services import api_key_authenticate
from accounts.tokens import InvalidToken, TokenClaims, verify_access_token


class Unauthenticated(Exception):
    """No or bad credentials: answered 401 with a Basic challenge."""


def challenge() -> str:
    return f'Basic realm="{settings.SITE_NAME} Helm repository"'


def authenticate(request) -> tuple[User, TokenClaims | None]:
    kind, _, credentials = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    kind, credentials = kind.lower(), credentials.strip()
    if kind == "basic" and credentials:
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthenticated("Malformed Basic credentials.") from None
        # The user name is "$oauthtoken" by convention; only the key identifies the caller.
        user = api_key_authenticate(decoded.partition(":")[2])
        if user is None:
            raise Unauthenticated("Invalid API key: use username '$oauthtoken' and your API key as the password.")
        return user, None
    if kind == "bearer" and credentials:
        try:
            claims = verify_access_token(credentials, audience=NGC_AUDIENCE)
        except InvalidToken:
            raise Unauthenticated("Invalid or expired token; request a new one from /token.") from None
        user = token_user(claims)
        if user is None:
            raise Unauthenticated("Invalid or expired token; request a new one from /token.")
        return user, claims
    if request.method in ("GET", "HEAD") and getattr(request, "user", None) is not None and request.user.is_authenticated:
        return request.user, None
    raise Unauthenticated("Authentication required: username '$oauthtoken' and your API key.")


def token_reaches(claims: TokenClaims | None, space: Space) -> bool:
    """Scopes only narrow: an unscoped token (or Basic, or a session) reaches every space its user may see."""
    return claims is None or not claims.scopes or scope_covers(claims.scopes, space)
