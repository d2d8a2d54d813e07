"""Where a live server keeps its blobs (local files, or an S3 bucket), and how it served them: the
checks the client tests make in both storage modes, so one scenario asserts the same thing either way.

In S3 mode a blob must be in the bucket at its content address and nowhere on the node's disk, and
its bytes must never pass through the app: a download GET is answered 307 to a presigned URL
(REGISTRY_S3_REDIRECT_DOWNLOADS is on by default). With local files the blob is on disk and the
server answers with the bytes.
"""
import re
import time
from dataclasses import dataclass
from pathlib import Path

from botocore.exceptions import ClientError

from artifacts.blobs.interface import blob_path
from tests.support.s3_server import S3Server

# gunicorn's default access log line: ... "GET /v2/x/blobs/sha256:ab HTTP/1.1" 307 0 "-" "agent"
ACCESS_LINE = re.compile(r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d{3}) ')


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    status: int


def log_mark(log_path: Path) -> int:
    """Where the access log ends now. gunicorn writes a line once the response is sent, so wait a
    moment for the lines of requests just answered."""
    time.sleep(0.3)
    return log_path.stat().st_size


def requests_since(log_path: Path, mark: int) -> list[Request]:
    """The requests the access log shows after `mark` (a `log_mark`)."""
    time.sleep(0.3)
    with log_path.open("rb") as log:
        log.seek(mark)
        text = log.read().decode(errors="replace")
    return [
        Request(match["method"], match["path"], int(match["status"]))
        for match in map(ACCESS_LINE.search, text.splitlines()) if match
    ]


def tagged_blobs(repository: str, tag: str) -> dict[str, int]:
    """`digest: size` of a tagged manifest's own blob and of the blobs it references."""
    from artifacts.models import Tag

    manifest = Tag.objects.select_related("manifest__blob").get(repository__name=repository, name=tag).manifest
    return {blob.digest: blob.size for blob in [manifest.blob, *manifest.layers.all()]}


@dataclass(frozen=True)
class BlobHome:
    """The blob store of one live server: `disk_root` is its REGISTRY_BLOB_STORE_ROOT, `bucket` the
    S3 server whose bucket holds its blobs (None with local files)."""

    mode: str
    disk_root: Path
    bucket: S3Server | None = None

    def on_disk(self, digest: str) -> bool:
        hex_digest = digest.split(":", 1)[1]
        return (self.disk_root / blob_path(digest)).exists() or any(self.disk_root.rglob(f"{hex_digest}*"))

    def in_bucket(self, digest: str) -> int | None:
        """The object's size at the digest's content address in the bucket, None if there is none."""
        assert self.bucket is not None
        try:
            head = self.bucket.client().head_object(Bucket=self.bucket.bucket, Key=str(blob_path(digest)))
        except ClientError as error:
            if error.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return head["ContentLength"]

    def assert_holds(self, blobs: dict[str, int]) -> None:
        """Each `digest: size` is stored where this mode keeps blobs, and only there."""
        for digest, size in blobs.items():
            if self.bucket is None:
                assert (self.disk_root / blob_path(digest)).stat().st_size == size, digest
            else:
                assert self.in_bucket(digest) == size, f"{digest} is not in the bucket at {blob_path(digest)}"
                assert not self.on_disk(digest), f"{digest} is on the node's disk under {self.disk_root}"

    def assert_downloads_served(self, requests: list[Request], path_pattern: str) -> list[Request]:
        """The GETs whose path matches `path_pattern` (a regex), at least one: with local files each
        answered with the bytes (200 or 206); in S3 mode each redirected (307) to the bucket."""
        downloads = [r for r in requests if r.method == "GET" and re.search(path_pattern, r.path)]
        assert downloads, f"no GET matching {path_pattern!r} in the access log: {requests}"
        if self.bucket is None:
            assert {r.status for r in downloads} <= {200, 206}, downloads
        else:
            assert {r.status for r in downloads} <= {307}, f"bytes served by the app, not the bucket: {downloads}"
        return downloads
