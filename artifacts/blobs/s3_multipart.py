"""S3 multipart uploads whose parts clients PUT straight into the bucket (NGC model and resource
files): CreateMultipartUpload on the upload's own key `uploads/<id>`, one presigned UploadPart URL
per part, ListParts, CompleteMultipartUpload, AbortMultipartUpload.

A presigned URL names one key, one UploadId and one part number, and expires after
settings.S3_PART_URL_SECONDS (the client holds them all from the start of the file's upload); the
bucket refuses it for anything else. Once assembled, the object is
an upload object like any other: the caller hashes it (`hash_object`) and then commits it to its
content address (S3BlobStore.commit_upload, through blob_commit_verified) or discards it.
"""
import hashlib
from dataclasses import dataclass
from datetime import datetime

from botocore.exceptions import ClientError
from django.conf import settings

from artifacts.blobs.s3_errors import error_code, is_missing
from artifacts.blobs.s3_store import S3BlobStore
from artifacts.blobs.store import upload_path

# Hashing reads the object in pieces this size. Not digests.hash_file: urllib3's readinto copies
# every read once more (measured 0.33 against 0.29 CPU s per 256 MiB from SeaweedFS).
READ_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class StoredPart:
    number: int
    size: int
    etag: str
    last_modified: datetime


class PartsChanged(Exception):
    """A part was sent again between listing the parts and assembling them: list them again."""


def _key(store: S3BlobStore, upload_id: str) -> str:
    return store.key(upload_path(str(upload_id)))


def create(store: S3BlobStore, upload_id: str) -> str:
    """Begin the multipart upload of `uploads/<upload_id>`; its S3 UploadId."""
    reply = store.client.create_multipart_upload(
        Bucket=store.bucket, Key=_key(store, upload_id), ContentType="application/octet-stream"
    )
    return reply["UploadId"]


def part_url(store: S3BlobStore, upload_id: str, s3_upload_id: str, number: int) -> str:
    """A URL that PUTs part `number` (1-based) of this one upload, without credentials, until it expires."""
    return store.client.generate_presigned_url(
        "upload_part",
        Params={"Bucket": store.bucket, "Key": _key(store, upload_id), "UploadId": s3_upload_id, "PartNumber": number},
        ExpiresIn=settings.S3_PART_URL_SECONDS,
    )


def stored_parts(store: S3BlobStore, upload_id: str, s3_upload_id: str) -> dict[int, list[StoredPart]] | None:
    """The parts the bucket holds, by number, latest first; None when the multipart upload is gone
    (assembled or aborted). A part sent again replaces the earlier one in S3, but SeaweedFS lists
    both (and assembles whichever ETag it is given), hence a list."""
    parts: dict[int, list[StoredPart]] = {}
    pages = store.client.get_paginator("list_parts").paginate(
        Bucket=store.bucket, Key=_key(store, upload_id), UploadId=s3_upload_id
    )
    try:
        for page in pages:
            for item in page.get("Parts", []):
                part = StoredPart(item["PartNumber"], item["Size"], item["ETag"], item["LastModified"])
                parts.setdefault(part.number, []).append(part)
    except ClientError as exc:
        if is_missing(exc):
            return None
        raise
    for candidates in parts.values():
        candidates.sort(key=lambda part: part.last_modified, reverse=True)
    return parts


def assemble(store: S3BlobStore, upload_id: str, s3_upload_id: str, parts: list[StoredPart]) -> str:
    """Complete the multipart upload from these parts, in order; the object's ETag. PartsChanged
    when a part's ETag no longer matches (it was sent again meanwhile)."""
    key = _key(store, upload_id)
    try:
        reply = store.client.complete_multipart_upload(
            Bucket=store.bucket, Key=key, UploadId=s3_upload_id,
            MultipartUpload={"Parts": [{"PartNumber": part.number, "ETag": part.etag} for part in parts]},
        )
    except ClientError as exc:
        if error_code(exc) in ("InvalidPart", "InvalidPartOrder"):
            raise PartsChanged(str(exc)) from None
        raise
    # Some servers (Ceph RGW) answer without the ETag: the object's own is the same.
    return reply.get("ETag") or object_etag(store, upload_id) or ""


def object_etag(store: S3BlobStore, upload_id: str) -> str | None:
    """The ETag of the assembled object `uploads/<upload_id>`; None when there is none."""
    head = store.head(_key(store, upload_id))
    return head["ETag"] if head is not None else None


def hash_object(store: S3BlobStore, upload_id: str, etag: str) -> tuple[str, int]:
    """(sha256 hex, length) of the assembled object, read from the bucket in READ_CHUNK pieces; only
    the object with this ETag is read. FileNotFoundError when it is gone or was replaced."""
    extra = {"IfMatch": etag} if etag else {}
    try:
        body = store.client.get_object(Bucket=store.bucket, Key=_key(store, upload_id), **extra)["Body"]
    except ClientError as exc:
        if is_missing(exc) or error_code(exc) in ("PreconditionFailed", "412"):
            raise FileNotFoundError(_key(store, upload_id)) from None
        raise
    hasher, length = hashlib.sha256(), 0
    with body:
        for chunk in body.iter_chunks(READ_CHUNK):
            hasher.update(chunk)
            length += len(chunk)
    return hasher.hexdigest(), length


def discard(store: S3BlobStore, upload_id: str, s3_upload_id: str) -> None:
    """Abort the multipart upload (its parts go) and delete the object if it was assembled."""
    store.abort_multipart(_key(store, upload_id), s3_upload_id)
    store.delete_upload(upload_id)

