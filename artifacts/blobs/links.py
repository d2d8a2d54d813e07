"""Bytes become a blob only as verified bytes, and stay served only while they verify.

`blob_commit_verified` is the one place a blob row and the file at its content address are
written. Every path that stores bytes calls it (registry uploads and manifests, model and resource
files, Helm chart packages), inside its transaction, after hashing exactly the bytes it places:
- a new digest: the row is inserted as verified and the caller's file renamed into place;
- a row verified earlier whose file is there at the recorded size: that file is trusted and the
  caller's copy dropped (identical bytes are stored once);
- anything else — a row nothing verified (stored before verification existed, or marked unverified
  by `verify_blobs --repair`), a missing file, a file of the wrong size: the caller's verified
  bytes replace the file and the row is marked verified.
So a file at an address is never trusted because it is there. The row's lock (the upsert's, FOR NO
KEY UPDATE) is held while the file is placed; garbage collection and quarantine take FOR UPDATE,
which waits for it.

The rest of a blob's life in a repository is here too: the registry link (`blob_link`), mounts,
the HEAD touch that restarts the GC grace, and unlinks. Re-verification is artifacts.blobs.verify.
"""
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from artifacts.blobs.errors import DigestMismatch
from artifacts.blobs.store import BlobStore, get_blob_store
from artifacts.db_conflicts import retry_on_conflict
from artifacts.digests import new_hasher, parse_digest
from artifacts.models import Blob, Repository, RepositoryBlob
from artifacts.oci.fastpath import statements

log = logging.getLogger(__name__)


def blob_commit_verified(
    *, digest: str, size: int, upload_id: str | None = None, data: bytes | None = None, media_type: str = "",
    link_repository_id: int | None = None,
) -> Blob:
    """Make verified bytes the blob `digest`: the upload file `upload_id` (which the caller hashed
    to `digest`, as its only writer, and keeps from other writers until this returns), or `data`
    (already in memory). The row is created if new, locked and marked as just linked (keeps GC off
    it), and made one of repository `link_repository_id`'s blobs if given (a registry upload:
    blob_link, in the same statement). Call inside transaction.atomic()."""
    now = timezone.now()
    blob_id, verified_at = statements.blob_upsert(
        digest=digest, size=size, media_type=media_type, now=now, link_repository_id=link_repository_id,
    )
    store = get_blob_store()
    inserted = verified_at == now
    if verified_at is not None and not inserted:
        stat = store.stat(digest)
        if stat is not None and stat.size == size:
            if upload_id is not None:
                store.delete_upload(upload_id)
            return _loaded(blob_id, digest, size, media_type, verified_at)
    _place(store, digest, upload_id, data)
    if not inserted:
        Blob.objects.filter(pk=blob_id).update(verified_at=now, size=size)
        log.info("blob %s: replaced a file nothing had verified with verified bytes", digest)
    return _loaded(blob_id, digest, size, media_type, now)


def _place(store: BlobStore, digest: str, upload_id: str | None, data: bytes | None) -> None:
    if upload_id is None:
        store.put(digest, data or b"")
    else:
        store.commit_upload(upload_id, digest)


def _loaded(blob_id: int, digest: str, size: int, media_type: str, verified_at: datetime | None) -> Blob:
    return Blob.from_db(
        transaction.get_connection().alias,
        ["id", "digest", "size", "media_type", "verified_at"],
        [blob_id, digest, size, media_type, verified_at],
    )


def blob_put_bytes(*, data: bytes, digest: str, media_type: str = "") -> Blob:
    """Store small bytes already in memory (a manifest) under their verified digest."""
    parsed = parse_digest(digest)
    hasher = new_hasher(parsed.algorithm)
    hasher.update(data)
    if f"{parsed.algorithm}:{hasher.hexdigest()}" != digest:
        raise DigestMismatch(f"content does not match {digest}")
    with transaction.atomic(savepoint=False):  # inside a manifest PUT's transaction: no savepoint round trips
        return blob_commit_verified(digest=digest, size=len(data), data=data, media_type=media_type)


def blob_link(*, repository_id: int, blob: Blob) -> None:
    """Make `blob` one of the repository's blobs (a registry upload or mount; idempotent)."""
    statements.link_insert(repository_id=repository_id, blob_id=blob.pk, now=timezone.now())


def blob_mount(*, repository: Repository, source: Repository, digest: str) -> Blob | None:
    """Make a blob of `source` available in `repository` without moving bytes (caller checked pull on source).

    The blob row is locked before it is marked as linked: if GC is deleting it, this waits and then
    finds nothing (the client uploads instead) rather than re-creating a row without bytes. The lock
    is FOR NO KEY UPDATE (the update's own): it fences GC's FOR UPDATE but not the FOR KEY SHARE of
    manifest PUTs referencing the blob (artifacts.oci.services.manifest_put)."""
    return retry_on_conflict(lambda: _mount(repository, source, digest))


def _mount(repository: Repository, source: Repository, digest: str) -> Blob | None:
    with transaction.atomic():
        blob = (
            Blob.objects.select_for_update(of=("self",), no_key=True)
            .filter(digest=digest, repositoryblob__repository=source).first()
        )
        if blob is None:
            return None
        blob.last_linked_at = timezone.now()
        blob.save(update_fields=["last_linked_at"])
        blob_link(repository_id=repository.pk, blob=blob)
    return blob


def blob_touch_interval() -> timedelta:
    """How stale `last_linked_at` may be before a blob HEAD refreshes it: a quarter of the GC grace,
    so a HEAD that answers "exists" keeps the blob for at least three quarters of the grace."""
    return timedelta(minutes=settings.BLOB_GC_GRACE_MINUTES) / 4


def blob_touch(*, blob: Blob, now: datetime | None = None) -> bool:
    """Restart the GC grace clock of a blob a client was just told exists (blob HEAD): a pusher
    skips uploading it and references it in a manifest PUT soon after. No write while the clock is
    fresh. False when GC deleted the blob meanwhile (the UPDATE waits for GC's row lock, then
    matches nothing), so the caller answers BLOB_UNKNOWN and the client uploads it again."""
    now = now or timezone.now()
    stale = now - blob_touch_interval()
    if blob.last_linked_at >= stale:
        return True
    if Blob.objects.filter(pk=blob.pk, last_linked_at__lt=stale).update(last_linked_at=now):
        blob.last_linked_at = now
        return True
    return Blob.objects.filter(pk=blob.pk).exists()  # refreshed by someone else, or deleted


def blob_unlink(*, repository: Repository, digest: str) -> bool:
    """Remove a blob from a repository; its bytes go when garbage collection finds them unreferenced."""
    deleted, _ = RepositoryBlob.objects.filter(repository=repository, blob__digest=digest).delete()
    return bool(deleted)
