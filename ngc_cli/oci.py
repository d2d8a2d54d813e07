"""Registry protocol (OCI distribution) push/pull between the server and a local OCI layout
directory or OCI archive (.tar). Token auth: on 401 the `WWW-Authenticate: Bearer realm=…,service=…`
challenge names the token endpoint and service; the API key goes as Basic `$oauthtoken:<key>`."""
import hashlib
import json
import re
import shutil
import tarfile
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import requests

from ngc_cli.client import ApiClient
from ngc_cli.errors import NgcError, from_response

MANIFEST_TYPES = ", ".join([
    "application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json", "application/vnd.docker.distribution.manifest.v2+json",
])
INDEX_TYPES = ("application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json")
REF_NAME = "org.opencontainers.image.ref.name"


class Registry:
    def __init__(self, api: ApiClient, name: str):
        self.api = api
        self.name = name
        self.token: str | None = None

    def _request(self, method: str, path: str, *, what: str | None = None, ok: Iterable[int] = (200, 201, 202),
                 **kw: Any) -> requests.Response:
        url = path if path.startswith("http") else f"{self.api.base_url}/v2/{self.name}/{path}"
        for attempt in (1, 2):
            headers = dict(kw.pop("headers", None) or {})
            if self.token:
                headers["Authorization"] = f"Bearer {self.token}"
            response = self.api.send(method, url, headers=headers, **kw)
            kw["headers"] = {k: v for k, v in headers.items() if k != "Authorization"}
            if response.status_code == 401 and attempt == 1:
                self._login(response.headers.get("WWW-Authenticate", ""))
                continue
            break
        if response.status_code not in ok:
            raise from_response(response, what)
        return response

    def _login(self, challenge: str):
        params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        realm = params.get("realm") or f"{self.api.base_url}/token"
        query = {"service": params.get("service", ""), "scope": f"repository:{self.name}:pull,push,delete"}
        response = self.api.send("GET", realm, params=query, auth=("$oauthtoken", self.api.api_key()))
        if response.status_code == 401:
            raise NgcError("Invalid API key", status=401)
        if response.status_code != 200:
            raise from_response(response)
        body = response.json()
        self.token = body.get("token") or body.get("access_token")

    # --- push ------------------------------------------------------------------------------
    def push_blob(self, digest: str, data_path: Path):
        if self._request("HEAD", f"blobs/{digest}", ok=(200, 404)).status_code == 200:
            return False
        start = self._request("POST", "blobs/uploads/", ok=(202,))
        location = start.headers["Location"]
        if not location.startswith("http"):
            location = self.api.base_url + location
        sep = "&" if "?" in location else "?"
        with open(data_path, "rb") as body:
            self._request("PUT", f"{location}{sep}digest={digest}", data=body, ok=(201,),
                          headers={"Content-Type": "application/octet-stream"})
        return True

    def push_manifest(self, reference: str, media_type: str, body: bytes):
        self._request("PUT", f"manifests/{reference}", data=body, ok=(201,), headers={"Content-Type": media_type})

    # --- pull ------------------------------------------------------------------------------
    def get_manifest(self, reference: str, what: str):
        response = self._request("GET", f"manifests/{reference}", headers={"Accept": MANIFEST_TYPES}, what=what)
        return response.headers.get("Content-Type", "").split(";")[0], response.content

    def get_blob(self, digest: str, dest: Path):
        response = self._request("GET", f"blobs/{digest}", stream=True, what=f"Blob {digest}")
        hasher = hashlib.sha256()
        with open(dest, "wb") as out:
            for chunk in response.iter_content(1 << 20):
                hasher.update(chunk)
                out.write(chunk)
        if "sha256:" + hasher.hexdigest() != digest:
            raise NgcError(f"Blob {digest} arrived with a different digest")


def _blob_path(root: Path, digest: str) -> Path:
    alg, hexpart = digest.split(":", 1)
    return root / "blobs" / alg / hexpart


def open_layout(source: Path):
    """A layout directory for `source` (a directory, or an OCI archive .tar unpacked to a temp dir);
    returns (path, cleanup dir or None)."""
    if source.is_dir():
        return source, None
    if source.is_file() and tarfile.is_tarfile(source):
        tmp = Path(tempfile.mkdtemp(prefix="ngc-oci-"))
        with tarfile.open(source) as tar:
            tar.extractall(tmp, filter="data")
        return tmp, tmp
    raise NgcError(f"{source} is neither an OCI layout directory nor an OCI archive (.tar)")


def push(registry: Registry, source: Path, tag: str, ref_name: str | None = None) -> dict:
    root, cleanup = open_layout(source)
    try:
        index = json.loads((root / "index.json").read_text())
        entries = index.get("manifests") or []
        if not entries:
            raise NgcError(f"{source} holds no image (index.json lists no manifests)")
        wanted = [e for e in entries if (e.get("annotations") or {}).get(REF_NAME) in (ref_name, tag)]
        if not wanted and len(entries) > 1:
            names = [(e.get("annotations") or {}).get(REF_NAME) for e in entries]
            raise NgcError(f"{source} holds several images ({', '.join(map(str, names))}): use --source-tag")
        top = (wanted or entries)[0]
        stats = {"uploaded": 0, "skipped": 0}

        def push_manifest(descriptor: dict, reference: str) -> None:
            body = _blob_path(root, descriptor["digest"]).read_bytes()
            manifest = json.loads(body)
            media_type = descriptor.get("mediaType") or manifest.get("mediaType")
            if media_type in INDEX_TYPES:
                for child in manifest.get("manifests") or []:
                    push_manifest(child, child["digest"])
            else:
                for blob in [manifest.get("config"), *(manifest.get("layers") or [])]:
                    if blob:
                        sent = registry.push_blob(blob["digest"], _blob_path(root, blob["digest"]))
                        stats["uploaded" if sent else "skipped"] += 1
            registry.push_manifest(reference, media_type, body)

        push_manifest(top, tag)
        stats["digest"] = top["digest"]
        return stats
    finally:
        if cleanup:
            shutil.rmtree(cleanup, ignore_errors=True)


def pull(registry: Registry, tag: str, dest: Path, what: str) -> dict:
    archive = dest.suffix == ".tar"
    root = Path(tempfile.mkdtemp(prefix="ngc-oci-")) if archive else dest
    (root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    (root / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    stats = {"blobs": 0}

    def fetch(reference: str, media_type: str | None = None) -> dict:
        media, body = registry.get_manifest(reference, what)
        media = media or media_type
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        _blob_path(root, digest).write_bytes(body)
        manifest = json.loads(body)
        if media in INDEX_TYPES or manifest.get("manifests"):
            for child in manifest.get("manifests") or []:
                fetch(child["digest"], child.get("mediaType"))
        else:
            for blob in [manifest.get("config"), *(manifest.get("layers") or [])]:
                if blob and not _blob_path(root, blob["digest"]).exists():
                    registry.get_blob(blob["digest"], _blob_path(root, blob["digest"]))
                    stats["blobs"] += 1
        return {"mediaType": media, "digest": digest, "size": len(body)}

    top = fetch(tag)
    index_path = root / "index.json"
    index = json.loads(index_path.read_text()) if index_path.exists() else {"schemaVersion": 2, "manifests": []}
    index["manifests"] = [m for m in index.get("manifests", []) if (m.get("annotations") or {}).get(REF_NAME) != tag]
    index["manifests"].append({**top, "annotations": {REF_NAME: tag}})
    index_path.write_text(json.dumps(index))
    if archive:
        with tarfile.open(dest, "w") as tar:
            for item in sorted(root.iterdir()):
                tar.add(item, arcname=item.name)
        shutil.rmtree(root, ignore_errors=True)
    stats["digest"] = top["digest"]
    return stats
