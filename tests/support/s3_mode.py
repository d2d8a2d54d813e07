"""Running a test's registry on the S3 server (`s3_server`, SeaweedFS) instead of local files."""
import os
from pathlib import Path

import requests


def switch_to_s3(settings, s3_server) -> None:
    """STORAGES["blobs"] becomes S3Storage on the test server's bucket (get_blob_store: S3BlobStore)."""
    settings.STORAGES = {**settings.STORAGES, "blobs": {
        "BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": s3_server.storage_options(),
    }}


def mirror_local_blobs(s3_server, root: Path) -> list[str]:
    """Put every committed blob file under `root` into the bucket at the same key (what an
    installation that moved to S3 holds); the keys."""
    client = s3_server.client()
    keys = []
    for folder, _, names in os.walk(root / "blobs"):
        for name in names:
            path = Path(folder) / name
            key = path.relative_to(root).as_posix()
            client.put_object(Bucket=s3_server.bucket, Key=key, Body=path.read_bytes())
            keys.append(key)
    return keys


def fetch(url: str, **headers: str) -> requests.Response:
    """GET a URL on the S3 server with a plain client, as a registry client following a redirect would."""
    http = requests.Session()
    http.trust_env = False  # straight to the test server, whatever proxy the machine names
    return http.get(url, headers=headers, timeout=10)
