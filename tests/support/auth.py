"""Credentials as clients send them: the Basic `$oauthtoken` header, bearer tokens, a DRF client."""
import base64
from collections.abc import Iterable

from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.models import User
from accounts.tokens import issue_access_token

OAUTHTOKEN = "$oauthtoken"  # the user name NGC's clients (docker, helm, ngc) send with an API key


def basic_auth(key: str, user: str = OAUTHTOKEN) -> str:
    """The Authorization header value for `user:key` (by default an API key as `$oauthtoken`)."""
    return "Basic " + base64.b64encode(f"{user}:{key}".encode()).decode()


def basic_auth_for(user: User) -> str:
    """The Basic `$oauthtoken` header value with a fresh API key of `user` (retires their old one)."""
    return basic_auth(account_services.api_key_generate(user=user))


def bearer_auth(user: User, scopes: Iterable[str] = ()) -> str:
    """The Authorization header value with an NGC API bearer token of `user` carrying `scopes`."""
    token, _ = issue_access_token(user_id=user.pk, audience="ngc", scopes=list(scopes))
    return f"Bearer {token}"


def api_client_for(user: User) -> APIClient:
    """A DRF test client authenticated as `user` (the NGC API's views without a token)."""
    client = APIClient()
    client.force_authenticate(user)
    return client
