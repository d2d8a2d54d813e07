"""A small client for the NGC upload/download protocol (reference/ngc-api.md §5.3, §5.4), the way
NVIDIA's client runs it, over Django's test client or real HTTP (requests)."""
import base64
import hashlib
import json
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from rest_framework.test import APIClient


def b64sha(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def hexsha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Reply:
    status: int
    content: bytes
    headers: dict = field(default_factory=dict)

    def json(self):
        return json.loads(self.content)


class DjangoTransport:
    """Authenticated API calls through Django's test client; capability URLs without credentials."""

    def __init__(self, user=None):
        self.client = APIClient()
        self.anonymous = APIClient()
        if user is not None:
            self.client.force_authenticate(user)

    def api(self, method: str, path: str, body=None) -> Reply:
        call = getattr(self.client, method.lower())
        response = call(path, body, format="json") if body is not None else call(path)
        return Reply(response.status_code, _content(response), dict(response.items()))

    def raw(self, method: str, url: str, data: bytes = b"", headers: dict | None = None) -> Reply:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        extra = {f"HTTP_{key.upper().replace('-', '_')}": value for key, value in (headers or {}).items()}
        response = self.anonymous.generic(method, path, data, content_type="application/octet-stream", **extra)
        return Reply(response.status_code, _content(response), dict(response.items()))


def _content(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


class HttpTransport:
    """The same over HTTPS against the live server, with a bearer token from /token."""

    def __init__(self, server, api_key: str | None = None, scope: str = "group/ngc:acme"):
        self.base = server.url
        self.http = server.session()
        self.anonymous = server.session()
        if api_key is not None:
            reply = self.http.get(
                f"{self.base}/token", params={"service": "ngc", "scope": scope}, auth=("$oauthtoken", api_key)
            )
            assert reply.status_code == 200, reply.text
            self.http.headers["Authorization"] = f"Bearer {reply.json()['token']}"

    def api(self, method: str, path: str, body=None) -> Reply:
        response = self.http.request(method, self.base + path, json=body)
        return Reply(response.status_code, response.content, dict(response.headers))

    def raw(self, method: str, url: str, data: bytes = b"", headers: dict | None = None) -> Reply:
        response = self.anonymous.request(method, url, data=data, headers=headers or {})
        return Reply(response.status_code, response.content, dict(response.headers))


class Uploader:
    """One version's uploads: dedup check, multipart start/parts/complete, commit."""

    def __init__(self, transport, space: str, kind: str, name: str, version: str):
        self.t, self.space, self.kind, self.name, self.version = transport, space, kind, name, version

    def _target(self, **extra) -> dict:
        return {"name": self.name, "version": self.version, "artifactType": self.kind, **extra}

    def exists(self, blobs: list[bytes]) -> Reply:
        body = {"files": [{"sha256": b64sha(data)} for data in blobs]}
        return self.t.api("POST", f"/v2/{self.space}/{self.kind}/{self.name}/files?page-size=100", body)

    def start(self, path: str, data: bytes, *, part_size: int | None = None, upload_id=None, parts=None) -> Reply:
        body = self._target(filePath=path, size=len(data), sha256=b64sha(data))
        if part_size is not None:
            body["partSize"] = part_size
        if upload_id is not None:
            body["uploadID"] = upload_id
            if parts:
                body["partNumberList"] = parts
        return self.t.api("POST", f"/v2/{self.space}/files/multipart", body)

    def put_part(self, url: str, data: bytes) -> Reply:
        return self.t.raw("PUT", url, data, {"Content-Type": "application/octet-stream"})

    def complete(self, path: str, upload_id: str, sha256: str) -> Reply:
        body = self._target(filePath=path, uploadID=upload_id, sha256=sha256)
        return self.t.api("PUT", f"/v2/{self.space}/files/multipart", body)

    def commit(self, files: dict[str, bytes], base_version=None) -> Reply:
        entries = [{"commitType": "ADDITION", "filePath": path, "sha256": b64sha(data)} for path, data in files.items()]
        body = self._target(files=entries, baseVersion=base_version)
        return self.t.api("POST", f"/v2/{self.space}/files/commit?upload-pending=True", body)

    def upload(self, path: str, data: bytes, *, part_size: int | None = None) -> str:
        """Start, PUT every part (last first), complete; the upload id."""
        started = self.start(path, data, part_size=part_size)
        assert started.status == 200, started.content
        body = started.json()
        size = body["partSize"]
        for number in reversed(range(len(body["urls"]))):
            reply = self.put_part(body["urls"][number], data[number * size:(number + 1) * size])
            assert reply.status == 200, reply.content
        done = self.complete(path, body["uploadID"], b64sha(data))
        assert done.status == 200, done.content
        return body["uploadID"]

    def upload_all(self, files: dict[str, bytes], *, part_size: int | None = None) -> list[str]:
        """Upload what the dedup check does not know and commit everything; the paths uploaded."""
        known = {item["sha256"] for item in self.exists(list(files.values())).json()["files"] if item["exists"]}
        sent = []
        for path, data in files.items():
            if b64sha(data) not in known:
                self.upload(path, data, part_size=part_size)
                sent.append(path)
                known.add(b64sha(data))
        committed = self.commit(files)
        assert committed.status == 200, committed.content
        return sent
