"""One file's multipart upload when the blob store is an S3 bucket: the parts go from the client
straight into the bucket's multipart upload of `uploads/<id>` (presigned UploadPart URLs,
artifacts.blobs.s3_multipart), never through the app. The upload's state is its row and the bucket,
so any app node may hand out a part's URL again or complete the upload.

Complete lists the parts the bucket holds (every one present at its length), assembles them, hashes
the assembled object as read back from the bucket, and only then makes it the blob
(blob_commit_verified copies it to its content address); a mismatch deletes it. A complete cut
short after assembling is finished by the next one (the multipart upload is gone, the object is
there). Completes of one upload take turns (the database's advisory lock on its id). The bucket
not answering (artifacts.blobs.s3_errors decides what that is) is NGC's 503 TRY_AGAIN: the client
tries again.
"""
from collections.abc import Iterator
from contextlib import contextmanager

from artifacts.blobs import s3_multipart
from artifacts.blobs.errors import StorageUnavailable
from artifacts.blobs.s3_errors import bucket_answers
from artifacts.blobs.s3_store import S3BlobStore
from artifacts.blobs.s3_uploads import MIN_PART_SIZE
from artifacts.blobs.uploads import upload_writer_lock
from artifacts.versioned.transfer_models import MultipartState, MultipartUpload
from artifacts.versioned.transfers.errors import IntegrityFailure, TryAgain
from artifacts.versioned.transfers.rules import parts_missing, upload_complete_hashed, upload_to_complete
from registry_portal.errors import NotFound


@contextmanager
def _bucket_answers(doing: str) -> Iterator[None]:
    """The bucket not answering, in NGC's words."""
    try:
        with bucket_answers(doing):
            yield
    except StorageUnavailable as exc:
        raise TryAgain(f"Object storage did not answer while {exc.doing}; try again.") from exc


class InBucket:
    """The multipart steps on an S3 bucket (S3BlobStore)."""

    def __init__(self, store: S3BlobStore):
        self.store = store

    @staticmethod
    def part_size(asked: int) -> int:
        """S3 assembles parts of at least 5 MiB (but the last): a smaller size asked for is raised
        to that, and the client cuts the parts by the partSize answered."""
        return max(asked, MIN_PART_SIZE)

    def begin(self, upload: MultipartUpload) -> None:
        with _bucket_answers("starting the upload"):
            upload.s3_upload_id = s3_multipart.create(self.store, str(upload.pk))
        upload.save(update_fields=["s3_upload_id"])

    def part_urls(self, upload: MultipartUpload, numbers: list[int]) -> list[str]:
        return [s3_multipart.part_url(self.store, str(upload.pk), upload.s3_upload_id, n) for n in numbers]

    def complete(self, upload: MultipartUpload, expected_hex: str) -> MultipartUpload:
        with upload_writer_lock(upload.pk) as held:
            if not held:
                raise TryAgain(f"Upload '{upload.pk}' is being completed by another request; try again.")
            current = upload_to_complete(upload.pk, expected_hex)
            with _bucket_answers("completing the upload"):
                return self._complete(current, expected_hex)

    def _complete(self, upload: MultipartUpload, expected_hex: str) -> MultipartUpload:
        upload_id = str(upload.pk)
        parts = s3_multipart.stored_parts(self.store, upload_id, upload.s3_upload_id)
        if parts is None:  # assembled by a complete cut short (or aborted: then the object is gone too)
            etag = s3_multipart.object_etag(self.store, upload_id)
            if etag is None:
                raise NotFound(f"Upload '{upload_id}' is gone; start the file's upload again.")
        else:
            etag = self._assemble(upload, parts)
        try:
            actual, length = s3_multipart.hash_object(self.store, upload_id, etag)
        except FileNotFoundError:
            raise NotFound(f"Upload '{upload_id}' is gone; start the file's upload again.") from None
        return upload_complete_hashed(upload, actual_hex=actual, length=length, expected_hex=expected_hex, discard=self.discard)

    def _assemble(self, upload: MultipartUpload, stored: dict[int, list[s3_multipart.StoredPart]]) -> str:
        """Every part present at its length, assembled in order; the object's ETag. Of several
        copies of a part (a bucket that keeps re-sent ones), the latest of the right length; the
        hash of the assembled object decides whether it was the right one."""
        numbers = range(1, upload.part_count + 1)
        missing = [n for n in numbers if n not in stored]
        if missing:
            raise parts_missing(upload, missing)
        chosen = []
        for n in numbers:
            expected = upload.part_range(n)[1]
            part = next((p for p in stored[n] if p.size == expected), stored[n][0])
            if part.size != expected:
                raise IntegrityFailure(
                    f"Part {n} of '{upload.path}' arrived as {part.size} bytes, not {expected}; send it again."
                )
            chosen.append(part)
        try:
            return s3_multipart.assemble(self.store, str(upload.pk), upload.s3_upload_id, chosen)
        except s3_multipart.PartsChanged:
            raise TryAgain(f"A part of '{upload.path}' was sent again while it was completed; complete it again.") from None

    def discard(self, upload: MultipartUpload) -> None:
        """The row, the bucket's parts and the object (if assembled) go; a completed upload's object
        is its blob's already, so only its row goes."""
        upload_id, state = upload.pk, upload.state
        upload.delete()
        if state == MultipartState.OPEN:
            s3_multipart.discard(self.store, str(upload_id), upload.s3_upload_id)
