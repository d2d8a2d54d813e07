"""How API requests prove who they are.

The NGC API takes the signed Bearer tokens that /token issues (audience "ngc") and the
portal's session cookie (DRF's SessionAuthentication, which enforces CSRF). A token stops
working when its user is deactivated or its API key replaced (`token_user`).
"""
import base64
import binascii

from django.conf import settings
from rest_framework import authentication, exceptions

from accounts.models import ApiKey, User
from accounts.tokens import InvalidToken, TokenClaims, verify_access_token

NGC_AUDIENCE = "ngc"


def basic_credentials(request) -> tuple[str, str]:
    """(user name, password) of a Basic Authorization header; empty strings when absent or malformed."""
    kind, _, encoded = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if kind.lower() != "basic" or not encoded:
        return "", ""
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    username, _, password = decoded.partition(":")
    return username, password


def api_key_current(*, user_id: int, key_id: int | None) -> bool:
    """Is the API key a bearer token was obtained with still the user's key? (Replacing a key
    deletes the old row.) Tokens that name no key (anonymous ones) have nothing to lose."""
    return key_id is None or ApiKey.objects.filter(pk=key_id, user_id=user_id).exists()


def token_user(claims: TokenClaims) -> User | None:
    """The active user a verified bearer token speaks for, or None once they are deactivated or the
    API key the token was obtained with has been replaced. What the user may do is asked of the
    policy on each request anyway, so a role change needs nothing here; the key check costs a query
    only while the user's authz version differs from the token's."""
    user = User.objects.filter(pk=claims.user_id, is_active=True).first()
    if user is None:
        return None
    if claims.authz_version != user.authz_version and not api_key_current(user_id=user.pk, key_id=claims.key_id):
        return None
    return user


class BearerTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != b"bearer":
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header: expected 'Bearer <token>'.")
        try:
            claims = verify_access_token(header[1].decode("ascii", "replace"), audience=NGC_AUDIENCE)
        except InvalidToken:
            raise exceptions.AuthenticationFailed("Invalid or expired token; request a new one from /token.") from None
        user = token_user(claims)
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid or expired token; request a new one from /token.")
        return user, claims

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (not 403) so NVIDIA's client renews its token and retries.
        return f'Bearer realm="{settings.SITE_URL}/token",service="{NGC_AUDIENCE}"'
