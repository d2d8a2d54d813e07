"""Helm repository tests: a private blob store, a fast hasher, and a Helm client over Django's test client."""
import base64

import pytest

from accounts import services as account_services
from accounts.tokens import issue_access_token


@pytest.fixture(autouse=True)
def helm_settings(settings, tmp_path):
    settings.BLOB_STORE_ROOT = tmp_path / "storage"
    settings.SITE_URL = "https://registry.test"
    settings.REGISTRY_SERVICE_NAME = "registry.test"
    settings.TOKEN_SERVICES = {**settings.TOKEN_SERVICES, "registry.test": "artifacts.oci.auth.issue_registry_token"}
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.HELM_MAX_CHART_BYTES = 1024 * 1024
    return settings


def basic_auth(user) -> str:
    key = account_services.api_key_generate(user=user)
    return "Basic " + base64.b64encode(f"$oauthtoken:{key}".encode()).decode()


def bearer_auth(user, scopes=()) -> str:
    token, _ = issue_access_token(user_id=user.pk, audience="ngc", scopes=list(scopes))
    return f"Bearer {token}"


class Helm:
    """What `helm repo add --username '$oauthtoken'`, `helm cm-push` and NVIDIA's client send."""

    def __init__(self, client, user=None, *, authorization: str | None = None, prefix: str = "/helm"):
        self.client = client
        self.prefix = prefix
        self.headers = {}
        if authorization is None and user is not None:
            authorization = basic_auth(user)
        if authorization:
            self.headers["HTTP_AUTHORIZATION"] = authorization

    def index(self, space: str, **extra):
        return self.client.get(f"{self.prefix}/{space}/index.yaml", **self.headers, **extra)

    def get(self, path: str, **extra):
        return self.client.get(path, **self.headers, **extra)

    def push(self, space: str, data: bytes, *, multipart: bool = False, force: bool = False, **extra):
        path = f"{self.prefix}/api/{space}/charts" + ("?force" if force else "")
        if multipart:
            from django.core.files.uploadedfile import SimpleUploadedFile

            upload = SimpleUploadedFile("chart.tgz", data, content_type="application/gzip")
            return self.client.post(path, {"chart": upload}, **self.headers, **extra)
        return self.client.post(path, data=data, content_type="application/gzip", **self.headers, **extra)

    def delete(self, space: str, name: str, version: str, **extra):
        return self.client.delete(f"{self.prefix}/api/{space}/charts/{name}/{version}", **self.headers, **extra)
