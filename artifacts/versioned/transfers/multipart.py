"""One file's multipart upload session: start (or resume), receive each part at its offset,
complete (hash once, check, move into the content-addressed store), abort; stale sessions collected.

With the local blob store the parts come through the app (capability URLs, `receive_part`); with an
S3 bucket they go straight into the bucket (presigned URLs) and complete assembles them there
(multipart_s3.InBucket, used wherever an upload has an `s3_upload_id`)."""
import hashlib
import mmap
import os
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, cast

from django.db import transaction

from accounts.permissions import Action
from artifacts.blobs.store import LocalBlobStore, UploadBusy, get_blob_store
from artifacts.digests import hash_file
from artifacts.request_bodies import RequestBody
from artifacts.versioned.models import ArtifactVersion, VersionStatus
from artifacts.versioned.transfer_models import MultipartState, MultipartUpload
from artifacts.versioned.transfers.capabilities import part_url_path
from artifacts.versioned.transfers.errors import IntegrityFailure, TryAgain
from artifacts.versioned.transfers.rules import (
    Actor, clean_path, parts_missing, refuse_completed_again, require_on_version, require_upload,
    sha256_base64, sha256_hex, upload_complete_hashed, upload_to_complete,
)
from registry_portal.errors import Conflict, InvalidInput, NotFound

if TYPE_CHECKING:
    from artifacts.versioned.transfers.multipart_s3 import InBucket

PART_SIZE = 500_000_000  # NVIDIA's client cuts files into parts of exactly this many bytes
MIN_PART_SIZE, MAX_PART_SIZE = 1024, 5 * 1024**3  # for clients that ask for another size (`partSize`)
MAX_PARTS = 10_000  # as S3
MAX_FILE_SIZE = PART_SIZE * MAX_PARTS  # 5 TB
IO_BUFFER = 1024 * 1024  # per receiving/hashing request: 16 threads x 1 MiB at most


def _user_id(actor: Actor | None) -> int | None:
    return actor.pk if actor is not None and actor.is_authenticated else None


def _upload_in(version: ArtifactVersion, upload_id: uuid.UUID | str) -> MultipartUpload:
    upload = MultipartUpload.objects.filter(pk=upload_id, version=version).first() if _is_uuid(upload_id) else None
    if upload is None:
        raise NotFound(f"Upload '{upload_id}' is not known for version '{version.version}'; start the file's upload again.")
    return upload


def _in_bucket() -> "InBucket | None":
    """The multipart steps on the S3 bucket when that is the blob store (boto3 is imported only then)."""
    store = get_blob_store()
    if isinstance(store, LocalBlobStore):
        return None
    from artifacts.blobs.s3_store import S3BlobStore
    from artifacts.versioned.transfers.multipart_s3 import InBucket

    return InBucket(cast(S3BlobStore, store))


def _bucket_of(upload: MultipartUpload) -> "InBucket":
    bucket = _in_bucket()
    if bucket is None:  # the registry moved off the bucket since the upload began
        raise NotFound(f"Upload '{upload.pk}' is gone; start the file's upload again.")
    return bucket


def _is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


class MultipartTransfer:
    """One file's multipart upload: start (or resume), receive_part, complete, abort."""

    @staticmethod
    def start(
        *, actor: Actor, version: ArtifactVersion, path: str, size: int, sha256: str | None = None, part_size: int | None = None
    ) -> MultipartUpload:
        """Rules: WRITE on the artifact's service; the version is not complete; the path is a safe
        relative path; 0 <= size <= MAX_FILE_SIZE. Parts are PART_SIZE bytes (what NVIDIA's client
        cuts) unless the client asks for another size (our browser page and tests do), with at most
        MAX_PARTS parts. The file is reserved at full length; no bytes are written yet. With an S3
        bucket, a multipart upload is begun there instead, with parts of at least 5 MiB."""
        require_upload(actor, version)
        path = clean_path(path)
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise InvalidInput("size must be the file's length in bytes, a whole number >= 0.", field="size")
        if size > MAX_FILE_SIZE:
            raise InvalidInput(f"Files are limited to {MAX_FILE_SIZE} bytes.", field="size")
        part_size = PART_SIZE if part_size is None else part_size
        if not MIN_PART_SIZE <= part_size <= MAX_PART_SIZE:
            raise InvalidInput(f"partSize must be from {MIN_PART_SIZE} to {MAX_PART_SIZE} bytes.", field="partSize")
        bucket = _in_bucket()
        if bucket is not None:
            part_size = bucket.part_size(part_size)
        if size > part_size * MAX_PARTS:
            raise InvalidInput(f"A file may have at most {MAX_PARTS} parts; use a larger partSize.", field="partSize")
        declared = sha256_hex(sha256) if sha256 not in (None, "") else ""
        with transaction.atomic():
            upload = MultipartUpload.objects.create(
                version=version, path=path, size=size, sha256=declared, part_size=part_size, created_by_id=_user_id(actor)
            )
            if bucket is not None:
                bucket.begin(upload)
            else:
                get_blob_store().reserve_upload(upload.pk, size)
        return upload

    @staticmethod
    def part_urls(upload: MultipartUpload, numbers: list[int]) -> list[str]:
        """Where the client PUTs each of these parts: presigned URLs of the S3 bucket, or the paths
        of our capability URLs (local store)."""
        if upload.s3_upload_id:
            return _bucket_of(upload).part_urls(upload, numbers)
        return [part_url_path(upload, number) for number in numbers]

    @staticmethod
    def resume(
        *, actor: Actor, version: ArtifactVersion, upload_id: uuid.UUID | str, path: str, part_numbers: list[int] | None = None
    ) -> tuple[MultipartUpload, list[int]]:
        """An open upload of this version and path, and the parts to (re)send: `part_numbers`
        (1-based, as the client lists the parts it has not finished) or all of them."""
        require_upload(actor, version)
        upload = _upload_in(version, upload_id)
        if clean_path(path) != upload.path:
            raise InvalidInput(f"Upload '{upload_id}' is for '{upload.path}', not '{path}'.", field="filePath")
        if upload.state != MultipartState.OPEN:
            raise Conflict(f"Upload '{upload_id}' is already completed.")
        if not part_numbers:
            return upload, list(range(1, upload.part_count + 1))
        if not isinstance(part_numbers, list) or not all(
            isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= upload.part_count for n in part_numbers
        ):
            raise InvalidInput(f"partNumberList must hold part numbers from 1 to {upload.part_count}.", field="partNumberList")
        if len(set(part_numbers)) != len(part_numbers):
            raise InvalidInput("partNumberList names a part twice.", field="partNumberList")
        return upload, part_numbers

    @staticmethod
    def receive_part(
        *, upload_id: uuid.UUID | str, number: int, body: RequestBody, length: int | None
    ) -> MultipartUpload:
        """Write part `number` at its offset. The caller proved the capability URL; the body (an
        object with `readinto(view) -> int`, 0 at its end) must be exactly the part's length. A part
        cut short is not recorded (send it again); a retried part simply overwrites the same range.

        Bytes go through one reused IO_BUFFER-sized anonymous mapping (returned to the OS at the
        end, so memory per request stays bounded and does not pile up in malloc arenas) and are
        written with one pwrite per full buffer. A file of one part is hashed as it arrives, under
        the upload's exclusive lock, and its sha256 kept (`streamed_sha256`) so complete needn't
        re-read it; it is cleared before a re-send writes anything. Other parts: complete re-hashes."""
        upload = MultipartUpload.objects.filter(pk=upload_id).first()
        if upload is None:
            raise NotFound("This upload is gone (completed, aborted or expired).")
        if upload.state != MultipartState.OPEN:
            raise Conflict("This upload is already completed.")
        if upload.s3_upload_id:
            raise InvalidInput("This upload's parts go to object storage: PUT each part to the URL the multipart start returned.")
        if not 1 <= number <= upload.part_count:
            raise InvalidInput(f"This upload has parts 1 to {upload.part_count}.")
        offset, expected = upload.part_range(number)
        if length is not None and length != expected:
            raise InvalidInput(f"Part {number} of this upload is {expected} bytes; the request has {length}.")
        whole_file = upload.part_count == 1  # part 1 from offset 0 to the end: hash it while it arrives
        hasher = hashlib.sha256() if whole_file else None
        received = 0
        buffer = mmap.mmap(-1, IO_BUFFER)
        view = memoryview(buffer)
        try:
            with get_blob_store().upload_part(upload.pk, offset, exclusive=whole_file) as writer:
                # The file may have become a blob while this request waited for the lock.
                still_open = MultipartUpload.objects.filter(pk=upload.pk, state=MultipartState.OPEN)
                if not (still_open.update(streamed_sha256="") if whole_file else still_open.exists()):
                    raise Conflict("This upload is already completed.")
                while True:
                    filled = 0
                    while filled < IO_BUFFER:
                        with view[filled:] as rest:
                            n = body.readinto(rest)
                        if not n:
                            break
                        filled += n
                    if not filled:
                        break
                    if received + filled > expected:
                        raise InvalidInput(f"Part {number} of this upload is {expected} bytes; more arrived.")
                    with view[:filled] as chunk:
                        writer.write(chunk)
                        if hasher is not None:
                            hasher.update(chunk)
                    received += filled
                    if filled < IO_BUFFER:
                        break
                if received != expected:
                    raise InvalidInput(f"Part {number}: {received} of {expected} bytes arrived; send the part again.")
                # Recorded under the part's lock, so a completing request sees it written and recorded.
                with transaction.atomic():
                    locked = MultipartUpload.objects.select_for_update().filter(pk=upload.pk).first()
                    if locked is None:
                        raise NotFound("This upload is gone (completed, aborted or expired).")
                    fields = ["received_parts", "updated_at"]
                    if number not in locked.received_parts:
                        locked.received_parts = sorted([*locked.received_parts, number])
                    if hasher is not None:
                        locked.streamed_sha256 = hasher.hexdigest()
                        fields.append("streamed_sha256")
                    locked.save(update_fields=fields)
        except FileNotFoundError:
            raise NotFound("This upload is gone (completed, aborted or expired).") from None
        finally:
            _unmap(view, buffer)
        return locked

    @staticmethod
    def complete(*, actor: Actor, version: ArtifactVersion, upload_id: uuid.UUID | str, path: str, sha256: str) -> MultipartUpload:
        """Rules: every part received; the stored bytes have the declared sha256 and length. A
        mismatch discards the upload's bytes and answers 409 (nothing is stored); completing a
        completed upload with the same sha256 answers 400, which the client reads as done."""
        require_on_version(actor, Action.WRITE, version)
        upload = _upload_in(version, upload_id)
        try:
            expected = sha256_hex(sha256)
        except InvalidInput as exc:
            raise IntegrityFailure(exc.message, field="sha256") from None
        if path != upload.path:
            raise IntegrityFailure(f"Upload '{upload_id}' is for '{upload.path}', not '{path}'.", field="filePath")
        if upload.state == MultipartState.COMPLETE:
            refuse_completed_again(upload, expected)
        if version.status == VersionStatus.UPLOAD_COMPLETE:
            raise Conflict(f"Version '{version.version}' is already UPLOAD_COMPLETE.")
        if upload.sha256 and upload.sha256 != expected:
            _discard(upload)
            raise IntegrityFailure(
                f"'{path}' was started with sha256 {sha256_base64(upload.sha256)}, completed with {sha256}; nothing was stored."
            )
        if upload.s3_upload_id:
            return _bucket_of(upload).complete(upload, expected)
        missing = upload.missing_parts
        if missing:
            raise parts_missing(upload, missing)
        store = get_blob_store()
        try:
            with store.sealed_upload(upload.pk) as handle:
                upload = upload_to_complete(upload_id, expected)
                if upload.streamed_sha256 and upload.part_count == 1:
                    # Hashed while its one part arrived, under the exclusive lock; nothing wrote since.
                    actual, length = upload.streamed_sha256, os.fstat(handle.fileno()).st_size
                else:
                    hasher = hashlib.sha256()
                    length = hash_file(hasher, handle)
                    actual = hasher.hexdigest()
                # Still under the seal: these hashed bytes become the blob, or a verified copy stays.
                upload = upload_complete_hashed(upload, actual_hex=actual, length=length, expected_hex=expected, discard=_discard)
        except FileNotFoundError:
            upload = MultipartUpload.objects.filter(pk=upload_id).first()
            if upload is not None and upload.state == MultipartState.COMPLETE:
                refuse_completed_again(upload, expected)
            raise NotFound(f"Upload '{upload_id}' is gone; start the file's upload again.") from None
        except UploadBusy as exc:
            raise TryAgain(str(exc)) from None
        return upload

    @staticmethod
    def abort(*, actor: Actor, version: ArtifactVersion, upload_id: uuid.UUID | str) -> None:
        """Drop an upload and the bytes received (`DELETE /v2/{ot}/files/multipart`)."""
        require_on_version(actor, Action.WRITE, version)
        _discard(_upload_in(version, upload_id))


def _discard(upload: MultipartUpload) -> None:
    bucket = _in_bucket() if upload.s3_upload_id else None
    if bucket is not None:
        bucket.discard(upload)
        return
    upload_id, state = upload.pk, upload.state
    upload.delete()
    if state == MultipartState.OPEN:
        get_blob_store().delete_upload(upload_id)


def multipart_collect_stale(*, older_than: datetime) -> int:
    """Remove uploads idle since `older_than` (garbage collection): open ones with their bytes,
    completed ones never committed (their blob goes at a later collection if nothing links it)."""
    removed = 0
    for upload in MultipartUpload.objects.filter(updated_at__lt=older_than):
        _discard(upload)
        removed += 1
    return removed


def _unmap(view: memoryview, buffer: mmap.mmap) -> None:
    """Release a request's buffer now; if a traceback still holds a slice of it, when that goes."""
    view.release()
    try:
        buffer.close()
    except BufferError:
        pass
