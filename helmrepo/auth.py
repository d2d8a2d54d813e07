"""Who is calling the Helm repository endpoints.

`helm repo add --username '$oauthtoken' --password <API key>` sends Basic credentials on every
request (guide 6.6.1); NVIDIA's client sends the Bearer tokens `/token` issues (audience "ngc"),
whose group scopes, when present, narrow the spaces they reach (accounts.authentication.token_reaches).
A signed-in portal session is accepted for downloads (GET) only, so the endpoints need no CSRF protection.
"""
from django.conf import settings

from accounts.authentication import INVALID_TOKEN_MESSAGE, ngc_token_user
from accounts.models import User
from accounts.services import api_key_authenticate
from accounts.tokens import TokenClaims
from registry_portal.authorization import BASIC, BEARER, parse_authorization


class Unauthenticated(Exception):
    """No or bad credentials: answered 401 with a Basic challenge."""


def challenge() -> str:
    return f'Basic realm="{settings.SITE_NAME} Helm repository"'


def authenticate(request) -> tuple[User, TokenClaims | None]:
    auth = parse_authorization(request)
    if auth.scheme == BASIC and auth.credentials:
        if auth.malformed:
            raise Unauthenticated("Malformed Basic credentials.")
        # The user name is "$oauthtoken" by convention; only the key identifies the caller.
        user = api_key_authenticate(auth.password)
        if user is None:
            raise Unauthenticated("Invalid API key: use username '$oauthtoken' and your API key as the password.")
        return user, None
    if auth.scheme == BEARER and auth.credentials:
        found = ngc_token_user(auth.credentials)
        if found is None:
            raise Unauthenticated(INVALID_TOKEN_MESSAGE)
        return found
    if request.method in ("GET", "HEAD") and getattr(request, "user", None) is not None and request.user.is_authenticated:
        return request.user, None
    raise Unauthenticated("Authentication required: username '$oauthtoken' and your API key.")
