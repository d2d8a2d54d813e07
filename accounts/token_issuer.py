"""NGC API tokens: the `ngc` issuer of `/token` (registry_portal/token_endpoint.py dispatches to it).

Basic auth `$oauthtoken:<API key>`; `scope=group/ngc:<org>[/<team>]`, repeated or space-separated.
Like docker's token auth, scopes for spaces the key's owner cannot see are dropped, not refused;
the token simply does not reach them.
"""
from django.utils import timezone
from rest_framework.response import Response

from accounts import permissions, services, tokens
from accounts.authentication import NGC_AUDIENCE, parse_group_scope
from accounts.serializers import ngc_datetime
from registry_portal.authorization import parse_authorization
from registry_portal.errors import InvalidInput, NotFound
from registry_portal.token_endpoint import invalid_key_response


def issue_ngc_token(request, service: str, params) -> Response:
    """The token for `service=ngc`; also answers (after checking the key) services nobody issues."""
    # The user name is "$oauthtoken" by convention; only the key identifies the caller.
    key = services.api_key_check(parse_authorization(request).password)
    if key is None:
        return invalid_key_response(request)
    if service != NGC_AUDIENCE:
        raise InvalidInput(f"Unknown service '{service}'; this server issues tokens for: {NGC_AUDIENCE}.", field="service")
    user = key.user
    authz_version = user.authz_version  # read before the grants (artifacts.oci.auth.token_response says why)
    requested = [scope for value in params.getlist("scope") for scope in value.split()]
    token, expires_in = tokens.issue_access_token(
        user_id=user.pk, audience=NGC_AUDIENCE, scopes=grantable_scopes(user, requested),
        authz_version=authz_version, key_id=key.pk,
    )
    return Response({"token": token, "expires_in": expires_in, "issued_at": ngc_datetime(timezone.now())})


def grantable_scopes(user, requested) -> list[str]:
    """The requested group scopes naming spaces the user may see, in their canonical `group/ngc:` form."""
    granted = []
    for scope in requested:
        parsed = parse_group_scope(scope)
        if parsed is None:
            continue
        try:
            space = permissions.get_space(user, *parsed)
        except NotFound:
            continue
        canonical = f"group/ngc:{space.path}"
        if canonical not in granted:
            granted.append(canonical)
    return granted
