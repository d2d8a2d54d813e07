"""A Helm client over Django's test client, for the chart repository's tests."""
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import User
from tests.support.auth import basic_auth_for


class Helm:
    """What `helm repo add --username '$oauthtoken'`, `helm cm-push` and NVIDIA's client send."""

    def __init__(self, client, user: User | None = None, *, authorization: str | None = None, prefix: str = "/helm"):
        self.client = client
        self.prefix = prefix
        self.headers = {}
        if authorization is None and user is not None:
            authorization = basic_auth_for(user)
        if authorization:
            self.headers["HTTP_AUTHORIZATION"] = authorization

    def index(self, space: str, **extra):
        return self.client.get(f"{self.prefix}/{space}/index.yaml", **self.headers, **extra)

    def get(self, path: str, **extra):
        return self.client.get(path, **self.headers, **extra)

    def push(self, space: str, data: bytes, *, multipart: bool = False, force: bool = False, **extra):
        path = f"{self.prefix}/api/{space}/charts" + ("?force" if force else "")
        if multipart:
            upload = SimpleUploadedFile("chart.tgz", data, content_type="application/gzip")
            return self.client.post(path, {"chart": upload}, **self.headers, **extra)
        return self.client.post(path, data=data, content_type="application/gzip", **self.headers, **extra)

    def delete(self, space: str, name: str, version: str, **extra):
        return self.client.delete(f"{self.prefix}/api/{space}/charts/{name}/{version}", **self.headers, **extra)
