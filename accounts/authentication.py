"""How API requests prove who they are, and how far a token reaches.

The NGC API takes the signed Bearer tokens that /token issues (audience "ngc") and the
portal's session cookie (DRF's SessionAuthentication, which enforces CSRF). A token stops
working when its user is deactivated or its API key replaced (`token_user`). A token's group
scopes (`group/ngc:<org>[/<team>]`) only narrow what its user may reach (`token_reaches`).
"""
import re

from django.conf import settings
from rest_framework import authentication, exceptions

from accounts.models import ApiKey, User
from accounts.tokens import InvalidToken, TokenClaims, verify_access_token
from registry_portal.authorization import BEARER, parse_authorization

NGC_AUDIENCE = "ngc"
INVALID_TOKEN_MESSAGE = "Invalid or expired token; request a new one from /token."

# `group/ngc:<org>[/<team>]`; NVIDIA's client says `ngc-stg` instead of `ngc` outside production.
GROUP_SCOPE_RE = re.compile(r"^group/(?:ngc|ngc-stg):(?P<org>[^/\s]+)(?:/(?P<team>[^/\s]+))?$")


def parse_group_scope(scope: str) -> tuple[str, str | None] | None:
    """(org, team or None) for a group scope, None for anything else."""
    match = GROUP_SCOPE_RE.match(scope)
    return (match["org"], match["team"]) if match else None


def token_reaches(claims: TokenClaims | None, space) -> bool:
    """May a request under `claims` touch `space` (an accounts.permissions.Space)? Scopes only
    narrow: no token (Basic, a session) or one without group scopes reaches every space its user
    may see; an org scope covers the org and all its teams, a team scope only that team."""
    if claims is None or not claims.scopes:
        return True
    for scope in claims.scopes:
        parsed = parse_group_scope(scope)
        if parsed is None or parsed[0] != space.org.name:
            continue
        if parsed[1] is None or (space.team is not None and parsed[1] == space.team.name):
            return True
    return False


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


def ngc_token_user(token: str) -> tuple[User, TokenClaims] | None:
    """(user, claims) of a valid NGC bearer token whose user may still use it, else None."""
    try:
        claims = verify_access_token(token, audience=NGC_AUDIENCE)
    except InvalidToken:
        return None
    user = token_user(claims)
    return (user, claims) if user is not None else None


class BearerTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        auth = parse_authorization(request)
        if auth.scheme != BEARER:
            return None
        if not auth.credentials or len(auth.credentials.split()) != 1:
            raise exceptions.AuthenticationFailed("Malformed Authorization header: expected 'Bearer <token>'.")
        found = ngc_token_user(auth.credentials)
        if found is None:
            raise exceptions.AuthenticationFailed(INVALID_TOKEN_MESSAGE)
        return found

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (not 403) so NVIDIA's client renews its token and retries.
        return f'Bearer realm="{settings.SITE_URL}/token",service="{NGC_AUDIENCE}"'
