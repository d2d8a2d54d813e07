"""Writing uploads into the bucket: S3 multipart uploads that any app node can continue.

An upload's bytes go to the object `uploads/<id>` in parts of settings.S3_UPLOAD_PART_BYTES
(S3 wants at least 5 MiB in every part but the last), through an S3 multipart upload started at
the first full part; a body that never fills a part is one PUT. A request holds at most one part
in memory. The same writer puts verified local files at their content address
(artifacts.blobs.copy_to_s3). The bucket not answering is StorageUnavailable
(artifacts.blobs.s3_errors).

A registry upload session (`S3SessionWriter`) lives across requests, and each request may land on
another node: nothing it needs stays on the node that wrote before. Each uploaded part is a
checkpoint: the session row saves, in one UPDATE with its offset (artifacts.blobs.uploads), the
multipart upload's id, its parts (number, ETag, size) and the running sha256 over them
(artifacts.digests.ResumableSha256). Bytes at the end of a request that do not fill a part (S3
cannot take them as a part unless they are the blob's last) are saved as a small object of their
own, `uploads/<id>.<token>`, named in the same UPDATE; the next request, on whatever node, reads it
back and goes on from there. Each tail object has a name of its own (a token), so a writer whose
save was refused never overwrites the one the row names. The ETags go with CompleteMultipartUpload,
so the object is the parts that were hashed.

    object_state = {"upload": <multipart upload id or null>,
                    "parts": [[number, etag, size], ...],
                    "sha256": <the running hash over the parts and the tail>,
                    "tail": <token of uploads/<id>.<token> or null>, "tail_size": <bytes>}
"""
import logging
import secrets
from pathlib import PurePosixPath
from typing import Any, BinaryIO, Protocol

from botocore.exceptions import ClientError
from django.conf import settings

from artifacts.blobs.errors import BlobError
from artifacts.blobs.interface import Checkpoint, Hasher, upload_path
from artifacts.blobs.s3_errors import bucket_answers
from artifacts.digests import ResumableSha256

log = logging.getLogger(__name__)

MIN_PART_SIZE = 5 * 1024**2  # S3 refuses to assemble smaller parts, but for the last one
MAX_PARTS = 10_000  # S3's limit: a blob is at most MAX_PARTS * S3_UPLOAD_PART_BYTES


class UploadBucket(Protocol):
    """What the writers use of the S3 blob store (artifacts.blobs.s3_store.S3BlobStore)."""

    client: Any
    bucket: str

    def key(self, relative: PurePosixPath | str) -> str: ...
    def open_upload(self, session_id: str) -> BinaryIO: ...
    def abort_multipart(self, key: str, multipart_id: str) -> None: ...
    def delete_upload(self, session_id: str) -> None: ...


class UploadTooManyParts(BlobError):
    """The blob is larger than S3 takes in parts of this size (raise REGISTRY_S3_UPLOAD_PART_BYTES)."""


class S3Writer:
    """Bytes to the object `key` (an upload's uploads/<id>): one PUT, or a multipart upload past
    one part of `part_bytes` (settings.S3_UPLOAD_PART_BYTES unless given); `close` makes them the
    object, `abort` drops the parts, `cancel` the parts and the object."""

    def __init__(self, store: UploadBucket, key: str, *, part_bytes: int | None = None):
        self._store = store
        self._client = store.client
        self._bucket = store.bucket
        self._key = key
        self._part_bytes: int = part_bytes or settings.S3_UPLOAD_PART_BYTES
        self._buffer = bytearray()
        self._multipart: str | None = None
        self._parts: list[list] = []  # [number, etag, size]
        self._completed = False
        self.offset = 0

    @bucket_answers("storing the upload's bytes")
    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            take = min(len(view), self._part_bytes - len(self._buffer))
            piece = view[:take]
            self._buffer += piece
            self._received(data if take == len(data) else piece)
            self.offset += take
            view = view[take:]
            if len(self._buffer) == self._part_bytes:
                self._upload_part()

    def _received(self, piece: bytes | memoryview) -> None:
        """Bytes just buffered (a session writer hashes them)."""

    def _upload_part(self) -> None:
        if len(self._parts) >= MAX_PARTS:
            raise UploadTooManyParts(f"the upload is larger than {MAX_PARTS} parts of {self._part_bytes} bytes")
        if self._multipart is None:
            self._multipart = self._client.create_multipart_upload(Bucket=self._bucket, Key=self._key)["UploadId"]
        number = self._parts[-1][0] + 1 if self._parts else 1
        etag = self._client.upload_part(
            Bucket=self._bucket, Key=self._key, UploadId=self._multipart, PartNumber=number, Body=self._buffer,
        )["ETag"]
        self._parts.append([number, etag, len(self._buffer)])
        self._buffer = bytearray()
        self._uploaded_part()

    def _uploaded_part(self) -> None:
        """A part is stored (a session writer has a checkpoint)."""

    @bucket_answers("storing the upload's bytes")
    def close(self) -> None:
        """Everything written becomes the object."""
        self._complete()

    def _complete(self) -> None:
        if self._completed:
            return
        if self._multipart is None:
            self._client.put_object(Bucket=self._bucket, Key=self._key, Body=self._buffer)
        else:
            if self._buffer:
                self._upload_part()
            self._client.complete_multipart_upload(
                Bucket=self._bucket, Key=self._key, UploadId=self._multipart,
                MultipartUpload={"Parts": [{"PartNumber": number, "ETag": etag} for number, etag, _size in self._parts]},
            )
        self._buffer = bytearray()
        self._completed = True

    def abort(self) -> None:
        """Drop the bytes not made the object yet: the multipart upload if it is still open."""
        self._buffer = bytearray()
        if self._multipart is not None and not self._completed:
            self._store.abort_multipart(self._key, self._multipart)

    def cancel(self) -> None:
        """Drop the bytes: the multipart upload if it is still open, the object if there is one
        (nothing when it was committed meanwhile: moved to its content address)."""
        self.abort()
        self._client.delete_object(Bucket=self._bucket, Key=self._key)


class S3SessionWriter(S3Writer):
    """A registry upload session's bytes, continued from its row's `object_state` (see the module's
    docstring); the caller (artifacts.blobs.uploads) claimed the session, as its only writer."""

    earlier_saves_stay_valid = False  # `saved` deletes the tail object the previous save named

    @bucket_answers("reading the upload's saved bytes")
    def __init__(self, store: UploadBucket, session_id: str, offset: int, object_state: dict | None):
        super().__init__(store, store.key(upload_path(session_id)))
        self._upload_id = session_id
        state = object_state or {}
        self._multipart = state.get("upload")
        self._parts = [list(part) for part in state.get("parts", [])]
        self._sha256 = ResumableSha256(state.get("sha256"))
        tail, tail_size = state.get("tail"), int(state.get("tail_size", 0))
        if offset != sum(size for _number, _etag, size in self._parts) + tail_size:
            raise BlobError(f"upload {session_id}: its saved parts do not add up to its offset {offset}")
        if tail:
            with store.open_upload(self._tail_id(tail)) as stream:
                self._buffer = bytearray(stream.read())
            if len(self._buffer) != tail_size:
                raise BlobError(f"upload {session_id}: its saved tail is not {tail_size} bytes")
        self.offset = offset
        self._saved = Checkpoint(offset, object_state)
        self._due: Checkpoint | None = None

    def _tail_id(self, token: str) -> str:
        return f"{self._upload_id}.{token}"

    def _state(self, *, tail: str | None) -> dict:
        return {
            "upload": self._multipart, "parts": self._parts, "sha256": self._sha256.state(),
            "tail": tail, "tail_size": len(self._buffer) if tail else 0,
        }

    def _received(self, piece: bytes | memoryview) -> None:
        self._sha256.update(piece)

    def _uploaded_part(self) -> None:
        # The buffer is empty: the hash covers exactly the parts, which is all a checkpoint now needs.
        self._due = Checkpoint(self.offset, self._state(tail=None))

    def checkpoint(self, *, every: int) -> Checkpoint | None:
        """The state after the latest part uploaded since the last save (`every`: parts decide)."""
        due, self._due = self._due, None
        return due

    @bucket_answers("storing the upload's bytes")
    def pause(self) -> Checkpoint | None:
        """Everything received stored: what does not fill a part goes to a tail object of its own."""
        if self.offset == self._saved.offset:
            return None
        tail = None
        if self._buffer:
            tail = secrets.token_hex(8)
            self._client.put_object(Bucket=self._bucket, Key=self._store.key(upload_path(self._tail_id(tail))), Body=self._buffer)
        return Checkpoint(self.offset, self._state(tail=tail))

    def saved(self, checkpoint: Checkpoint) -> None:
        """The row names `checkpoint` now: the tail object the previous one named is not needed."""
        previous, self._saved = self._saved, checkpoint
        self._due = None
        old_tail = (previous.object_state or {}).get("tail")
        if old_tail and old_tail != (checkpoint.object_state or {}).get("tail"):
            self._drop_tail(old_tail)

    def refused(self, checkpoint: Checkpoint) -> None:
        tail = (checkpoint.object_state or {}).get("tail")
        if tail and tail != (self._saved.object_state or {}).get("tail"):
            self._drop_tail(tail)

    def _drop_tail(self, token: str) -> None:
        try:
            self._client.delete_object(Bucket=self._bucket, Key=self._store.key(upload_path(self._tail_id(token))))
        except ClientError:  # left for delete_upload (the session's end) or garbage collection
            log.warning("upload %s: could not delete tail object %s", self._upload_id, token, exc_info=True)

    @bucket_answers("completing the upload")
    def seal(self) -> None:
        """Everything received becomes the object uploads/<id> (the rest as the last part)."""
        if self._completed:
            return
        self._complete()
        tail = (self._saved.object_state or {}).get("tail")
        if tail:
            self._drop_tail(tail)

    def close(self) -> None:
        """Nothing held: the bytes are where the last saved checkpoint says (or sealed)."""

    def sha256(self) -> Hasher:
        return self._sha256

    def cancel(self) -> None:
        self._buffer = bytearray()
        self._store.delete_upload(self._upload_id)
