"""Registry protocol traffic through Django's test client: digests, OCI documents, and a thin client."""
import hashlib
import json

from accounts.models import User
from artifacts.oci import auth
from tests.support.auth import basic_auth_for


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def sha512(data: bytes) -> str:
    return "sha512:" + hashlib.sha512(data).hexdigest()


class Registry:
    """A thin registry client over Django's test client, authenticated as one user."""

    def __init__(self, client, user: User | None = None, *, mode: str = "basic", scopes: list[str] | None = None):
        self.client = client
        self.headers = {}
        if user is not None and mode == "basic":
            self.headers["HTTP_AUTHORIZATION"] = basic_auth_for(user)
        elif mode == "bearer":
            token = auth.token_response(user, scopes or [])["token"]
            self.headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"

    def request(self, method: str, path: str, data=b"", content_type="application/octet-stream", **headers):
        call = getattr(self.client, method.lower())
        extra = {**self.headers, **headers}
        if method in ("GET", "HEAD", "DELETE"):
            return call(path, **extra)
        return call(path, data=data, content_type=content_type, **extra)

    def start_upload(self, name: str) -> str:
        """A POST and an empty PATCH: an upload session with its row (a POST alone stores nothing,
        artifacts.blobs.uploads.PENDING_PURPOSE); the Location to go on with."""
        started = self.request("POST", f"/v2/{name}/blobs/uploads/")
        assert started.status_code == 202, started.content
        patched = self.request("PATCH", started["Location"], b"")
        assert patched.status_code == 202 and patched["Range"] == "0-0", patched.content
        return patched["Location"]

    def push_blob(self, name: str, data: bytes) -> str:
        digest = sha256(data)
        response = self.request("POST", f"/v2/{name}/blobs/uploads/?digest={digest}", data)
        assert response.status_code == 201, response.content
        return digest

    def push_manifest(self, name: str, reference: str, document: dict, media_type: str):
        body = json.dumps(document).encode()
        return self.request("PUT", f"/v2/{name}/manifests/{reference}", body, content_type=media_type), body

    def push_image(self, name: str, tag: str, *, layer: bytes = b"layer-bytes", config: bytes = b'{"architecture":"amd64","os":"linux"}'):
        config_digest = self.push_blob(name, config)
        layer_digest = self.push_blob(name, layer)
        document = image_manifest(config_digest, len(config), [(layer_digest, len(layer))])
        response, body = self.push_manifest(name, tag, document, OCI_MANIFEST)
        assert response.status_code == 201, response.content
        return sha256(body), body


OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def image_manifest(config_digest, config_size, layers, **extra) -> dict:
    return {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_size},
        "layers": [
            {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d, "size": s} for d, s in layers
        ],
        **extra,
    }


def error_codes(response) -> list[str]:
    return [error["code"] for error in response.json()["errors"]]
