"""The blob store on an S3-compatible bucket (STORAGES["blobs"] is django-storages' S3Storage).

The keys are the local store's relative paths (artifacts.blobs.store: `blobs/sha256/ab/abcdef…`,
`uploads/<id>`, `quarantine/…`) under the storage's `location`. Committed blobs are immutable
objects at their content address: an upload is written to `uploads/<id>` and, once verified,
copied server-side to its address (a multipart copy past 5 GiB) and the upload object deleted,
as distribution's S3 driver moves its uploads. A reader sees the old object or the new one,
never a mix. Reads, presigned GETs, multipart and copy calls go through one boto3 client built
from the storage's settings. Uploads are written as S3 multipart uploads that any node can
continue (artifacts.blobs.s3_uploads).

One boto3 client per process serves every thread (shared_client): django-storages keeps a boto3
session, resource and client per thread, and each costs ~13 MB and ~0.2 CPU s to build (the
service model loaded again), so a 16-thread worker grew by tens of MB as pushes reached new
threads (docs/performance.md, S3 push cost). boto3 clients are thread-safe; resources are not.
"""
import posixpath
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import BinaryIO

from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError
from django.conf import settings
from django.utils.http import content_disposition_header

from artifacts.blobs.s3_errors import is_missing
from artifacts.blobs.s3_uploads import S3SessionWriter, S3Writer
from artifacts.blobs.interface import BlobStat, blob_path, quarantine_path, upload_path

# What the registry's requests to the bucket check on the wire, and why no more: every blob's
# sha256 is verified by the registry before the blob becomes visible, and part sizes are checked
# against the offset (ListParts for NGC uploads). botocore's defaults add a CRC32 of every part
# (flexible checksums, "when_supported") and, on plain http, a SHA-256 of the body for the SigV4
# signature: ~1.5 and ~0.75 CPU s per GiB, next to the registry's own sha256. Kept: the signed
# payload over http, where nothing else protects the bytes between here and the bucket (the server
# refuses a body that does not match it). Over https TLS authenticates every byte, so the body
# goes unsigned (UNSIGNED-PAYLOAD) and without a CRC. Checksums S3 requires (DeleteObjects'
# Content-MD5/CRC) are still sent: "when_required".
_WIRE_CHECKS = Config(request_checksum_calculation="when_required", response_checksum_validation="when_required")


def _client_config(storage) -> Config:
    https = (storage.endpoint_url or "https://").lower().startswith("https://") and storage.use_ssl
    s3 = dict(storage.client_config.s3 or {})
    s3.setdefault("payload_signing_enabled", not https)
    return storage.client_config.merge(_WIRE_CHECKS).merge(Config(s3=s3))


_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_clients_lock = threading.Lock()


def shared_client(storage):
    """This process's boto3 client for `storage` (an S3Storage), built on first use with the
    storage's credentials, endpoint and client_config (plus _WIRE_CHECKS), shared by all threads."""
    with _clients_lock:
        client = _clients.get(storage)
        if client is None:
            client = storage._create_session().client(
                "s3", region_name=storage.region_name, use_ssl=storage.use_ssl, endpoint_url=storage.endpoint_url,
                config=_client_config(storage), verify=storage.verify,
            )
            _clients[storage] = client
        return client


# boto3 splits a copy into 8 MiB part copies past 8 MB by default (128 requests for 1 GiB); one
# CopyObject is allowed up to 5 GiB.
SERVER_SIDE_COPY = TransferConfig(multipart_threshold=5 * 1024**3, multipart_chunksize=1024**3)

class S3BlobStore:
    redirects = True  # downloads may go to a presigned GET (settings.S3_REDIRECT_DOWNLOADS decides)

    def __init__(self, storage):
        self.storage = storage
        self.client = shared_client(storage)
        self.bucket = storage.bucket_name

    def key(self, relative: PurePosixPath | str) -> str:
        """The object key of a store-relative path (under the storage's `location`, if any)."""
        location = (self.storage.location or "").strip("/")
        return posixpath.join(location, str(relative)) if location else str(relative)

    # --- committed blobs ------------------------------------------------------------------------

    def head(self, key: str) -> dict | None:
        """HeadObject's answer for the object `key`; None when there is none."""
        try:
            return self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if is_missing(exc):
                return None
            raise

    def exists(self, digest: str) -> bool:
        return self.head(self.key(blob_path(digest))) is not None

    def stat(self, digest: str) -> BlobStat | None:
        head = self.head(self.key(blob_path(digest)))
        if head is None:
            return None
        return BlobStat(size=head["ContentLength"], mtime=head["LastModified"].timestamp())

    def _open_key(self, key: str, offset: int = 0) -> BinaryIO:
        extra = {"Range": f"bytes={offset}-"} if offset else {}
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key, **extra)["Body"]
        except ClientError as exc:
            if is_missing(exc):
                raise FileNotFoundError(key) from None
            raise

    def open(self, digest: str, offset: int = 0) -> BinaryIO:
        """A stream of the blob's bytes from `offset` (a botocore StreamingBody: read, iter_chunks,
        close, a context manager). FileNotFoundError when there is no object."""
        return self._open_key(self.key(blob_path(digest)), offset)

    def delete(self, digest: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.key(blob_path(digest)))

    def presigned_get(self, digest: str, *, content_type: str | None = None, filename: str | None = None) -> str:
        """A URL that GETs this one object until it expires (settings.S3_PRESIGN_SECONDS); Range
        works through it, a HEAD does not (the method is signed). `content_type` and `filename` set
        the response's headers."""
        parameters = {}
        if content_type:
            parameters["ResponseContentType"] = content_type
        disposition = content_disposition_header(True, filename) if filename else None  # quotes, non-ASCII
        if disposition:
            parameters["ResponseContentDisposition"] = disposition
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self.key(blob_path(digest)), **parameters},
            ExpiresIn=settings.S3_PRESIGN_SECONDS,
        )

    def put(self, digest: str, data: bytes) -> None:
        """Place verified bytes already in memory at their address (one PUT: S3 replaces whole objects)."""
        self.client.put_object(Bucket=self.bucket, Key=self.key(blob_path(digest)), Body=data)

    # --- uploads (written by artifacts.blobs.s3_uploads) -------------------------------------------

    def writer(self, upload_id: str) -> S3Writer:
        return S3Writer(self, self.key(upload_path(str(upload_id))))

    def session_writer(self, session_id: str, *, offset: int, object_state: dict | None) -> S3SessionWriter:
        """The session continued from its saved `object_state` (its parts, tail and running hash)."""
        return S3SessionWriter(self, str(session_id), offset, object_state)

    def open_upload(self, session_id: str) -> BinaryIO:
        return self._open_key(self.key(upload_path(str(session_id))))

    def abort_multipart(self, key: str, multipart_id: str) -> None:
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=multipart_id)
        except ClientError as exc:
            if not is_missing(exc):
                raise

    def delete_upload(self, session_id: str) -> None:
        """Drop everything of upload `session_id`: an open multipart upload (its parts), the tail
        objects `uploads/<id>.<token>` and the object."""
        key = self.key(upload_path(str(session_id)))
        for page in self.client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket, Prefix=key):
            for upload in page.get("Uploads", []):
                if upload["Key"] == key:
                    self.abort_multipart(key, upload["UploadId"])
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=key + "."):
            for item in page.get("Contents", []):
                self.client.delete_object(Bucket=self.bucket, Key=item["Key"])
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def _move(self, source: str, target: str) -> None:
        """Server-side copy (one CopyObject up to S3's 5 GiB limit, a multipart copy of 1 GiB parts
        past it), then delete the source."""
        try:
            self.client.copy({"Bucket": self.bucket, "Key": source}, self.bucket, target, Config=SERVER_SIDE_COPY)
        except ClientError as exc:
            if is_missing(exc):
                raise FileNotFoundError(source) from None
            raise
        self.client.delete_object(Bucket=self.bucket, Key=source)

    def commit_upload(self, session_id: str, digest: str) -> None:
        """Make the verified object `uploads/<id>` the blob at its content address, replacing any
        object there; FileNotFoundError when the upload object is gone."""
        self._move(self.key(upload_path(str(session_id))), self.key(blob_path(digest)))

    def quarantine(self, digest: str) -> str | None:
        relative = quarantine_path(digest, time.time())
        try:
            self._move(self.key(blob_path(digest)), self.key(relative))
        except FileNotFoundError:
            return None
        return str(relative)

    def stale_uploads(self, *, modified_before: float) -> list[str]:
        """Names of upload objects (`<id>`, a session's tail `<id>.<token>`) not written since
        `modified_before` (a timestamp). Open multipart uploads: abort_stale_multipart_uploads."""
        prefix = self.key("uploads") + "/"
        names = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                name = item["Key"][len(prefix):]
                if "/" not in name and item["LastModified"].timestamp() < modified_before:
                    names.append(name)
        return names

    def abort_stale_multipart_uploads(self, *, initiated_before: float, keep: Callable[[str], bool]) -> int:
        """Abort the multipart uploads under the storage's location started before `initiated_before`
        (a timestamp) whose store-relative key (`uploads/<id>`, `blobs/…`) `keep` does not claim:
        until aborted, S3 keeps their parts, unlisted and billed. How many were aborted."""
        prefix = self.key("")
        aborted = 0
        for page in self.client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket, Prefix=prefix):
            for upload in page.get("Uploads", []):
                if upload["Initiated"].timestamp() >= initiated_before or keep(upload["Key"][len(prefix):]):
                    continue
                try:
                    self.client.abort_multipart_upload(Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"])
                except ClientError as exc:
                    if not is_missing(exc):  # completed or aborted meanwhile
                        raise
                    continue
                aborted += 1
        return aborted
