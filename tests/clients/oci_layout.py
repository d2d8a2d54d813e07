"""Build OCI image layouts by hand (no network pulls): gzip'd tar layers, a config, manifests, an index."""
import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Layout:
    root: Path

    def __post_init__(self):
        (self.root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        (self.root / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
        self.refs: list[dict] = []

    def blob(self, data: bytes) -> dict:
        digest = _digest(data)
        (self.root / "blobs" / "sha256" / digest.split(":")[1]).write_bytes(data)
        return {"digest": digest, "size": len(data)}

    def blob_bytes(self, digest: str) -> bytes:
        return (self.root / "blobs" / "sha256" / digest.split(":")[1]).read_bytes()

    def image(
        self, *, arch: str = "amd64", files: dict[str, bytes] | None = None, env: Sequence[str] = (), labels: dict | None = None,
    ) -> tuple[dict, bytes]:
        """Write a one-layer image (`env` after PATH; `labels` only when given); return (descriptor, manifest bytes)."""
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            for name, content in (files or {"hello.txt": f"hello from {arch}\n".encode()}).items():
                info = tarfile.TarInfo(name)
                info.size = len(content)
                info.mtime = 0
                tar.addfile(info, io.BytesIO(content))
        tar_bytes = buffer.getvalue()
        layer = self.blob(gzip.compress(tar_bytes, mtime=0))
        config = self.blob(json.dumps({
            "architecture": arch, "os": "linux",
            "config": {"Env": ["PATH=/usr/bin", *env], **({"Labels": labels} if labels is not None else {})},
            "rootfs": {"type": "layers", "diff_ids": [_digest(tar_bytes)]},
        }).encode())
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **layer}],
        }).encode()
        descriptor = {"mediaType": OCI_MANIFEST, **self.blob(manifest), "platform": {"architecture": arch, "os": "linux"}}
        return descriptor, manifest

    def index(self, descriptors: list[dict]) -> tuple[dict, bytes]:
        body = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors}).encode()
        return {"mediaType": OCI_INDEX, **self.blob(body)}, body

    def tag(self, descriptor: dict, name: str) -> None:
        entry = {k: v for k, v in descriptor.items() if k != "platform"}
        entry["annotations"] = {"org.opencontainers.image.ref.name": name}
        self.refs.append(entry)
        (self.root / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": self.refs}))
