"""Writes on the shared blob store: upload sessions, blob commits, mounts, garbage collection.

Every byte is hashed as it streams to storage; a blob exists (row and file) only after its digest
and length were verified. Protocol-specific writes (repositories, manifests, tags) are in
artifacts/oci/services.py.
"""
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from artifacts.digests import DEFAULT_ALGORITHM, InvalidDigest, new_hasher, parse_digest
from artifacts.models import Blob, Manifest, ManifestBlob, Repository, RepositoryBlob, UploadSession
from artifacts.storage import get_blob_store

log = logging.getLogger(__name__)
READ_CHUNK = 1024 * 1024


class BlobError(Exception):
    """A refused blob write; `code` is the OCI error code the registry answers with."""

    code = "BLOB_UPLOAD_INVALID"


class DigestMismatch(BlobError):
    code = "DIGEST_INVALID"


class SizeMismatch(BlobError):
    code = "SIZE_INVALID"


class RangeMismatch(BlobError):
    code = "RANGE_INVALID"


# Running hashers of the sessions this process appended to: (offset, hasher). hashlib state cannot
# be pickled into the database, so another process (or a restart) re-hashes the partial file.
_hashers: dict[str, tuple[int, object]] = {}
_hashers_lock = threading.Lock()


def _session_hasher(session: UploadSession):
    key = str(session.pk)
    with _hashers_lock:
        entry = _hashers.pop(key, None)
    if entry is not None and entry[0] == session.offset:
        return entry[1]
    hasher = new_hasher(DEFAULT_ALGORITHM)
    if session.offset:
        _hash_file_prefix(hasher, session, session.offset)
    return hasher


def _hash_file_prefix(hasher, session: UploadSession, length: int) -> None:
    remaining = length
    with get_blob_store().open_upload(session.pk) as handle:
        while remaining:
            chunk = handle.read(min(READ_CHUNK, remaining))
            if not chunk:
                raise BlobError("the upload's stored bytes are shorter than its offset")
            hasher.update(chunk)
            remaining -= len(chunk)


def upload_session_start(*, repository: Repository, user) -> UploadSession:
    user_id = user.pk if user is not None and user.is_authenticated else None
    return UploadSession.objects.create(repository=repository, created_by_id=user_id)


def upload_session_append(*, session: UploadSession, chunks: Iterable[bytes], start: int | None = None) -> UploadSession:
    """Append a chunk at the session's offset. A chunk that does not start there is refused
    (416); bytes received before a dropped connection are kept, so the client can resume."""
    if start is not None and start != session.offset:
        raise RangeMismatch(f"chunk starts at {start}, the upload is at {session.offset}")
    hasher = _session_hasher(session)
    writer = get_blob_store().writer(session.pk, offset=session.offset)
    try:
        for chunk in chunks:
            writer.write(chunk)
            hasher.update(chunk)
    finally:
        writer.close()
        session.offset = writer.offset
        session.save(update_fields=["offset", "updated_at"])
        with _hashers_lock:
            _hashers[str(session.pk)] = (session.offset, hasher)
    return session


def upload_session_commit(*, session: UploadSession, digest: str, size: int | None = None) -> Blob:
    """Verify the bytes against `digest` (and `size`) and make them a blob of the session's
    repository. On a mismatch the session and its bytes are discarded and nothing is stored."""
    try:
        parsed = parse_digest(digest)
    except InvalidDigest as exc:
        upload_session_cancel(session=session)
        raise DigestMismatch(str(exc)) from None
    if parsed.algorithm == DEFAULT_ALGORITHM:
        hasher = _session_hasher(session)
    else:
        hasher = new_hasher(parsed.algorithm)
        _hash_file_prefix(hasher, session, session.offset)
    actual = f"{parsed.algorithm}:{hasher.hexdigest()}"
    if actual != digest:
        upload_session_cancel(session=session)
        raise DigestMismatch(f"the uploaded content has digest {actual}, not {digest}")
    if size is not None and size != session.offset:
        upload_session_cancel(session=session)
        raise SizeMismatch(f"the uploaded content is {session.offset} bytes, not {size}")
    store = get_blob_store()
    with transaction.atomic():
        blob = _blob_locked(digest=digest, size=session.offset)
        writer = store.writer(session.pk, offset=session.offset)
        writer.commit(digest)
        RepositoryBlob.objects.get_or_create(repository=session.repository, blob=blob)
        session_id = str(session.pk)
        session.delete()
    with _hashers_lock:
        _hashers.pop(session_id, None)
    return blob


def _blob_locked(*, digest: str, size: int, media_type: str = "") -> Blob:
    """The blob row for `digest`, created if new, locked and marked as just linked (keeps GC off it)."""
    Blob.objects.get_or_create(digest=digest, defaults={"size": size, "media_type": media_type})
    blob = Blob.objects.select_for_update().get(digest=digest)
    blob.last_linked_at = timezone.now()
    blob.save(update_fields=["last_linked_at"])
    return blob


def upload_session_cancel(*, session: UploadSession) -> None:
    get_blob_store().delete_upload(session.pk)
    with _hashers_lock:
        _hashers.pop(str(session.pk), None)
    session.delete()


def blob_put_bytes(*, data: bytes, digest: str, media_type: str = "") -> Blob:
    """Store small bytes already in memory (a manifest) under their verified digest."""
    import uuid

    parsed = parse_digest(digest)
    hasher = new_hasher(parsed.algorithm)
    hasher.update(data)
    if f"{parsed.algorithm}:{hasher.hexdigest()}" != digest:
        raise DigestMismatch(f"content does not match {digest}")
    store = get_blob_store()
    with transaction.atomic():
        blob = _blob_locked(digest=digest, size=len(data), media_type=media_type)
        if not store.exists(digest):
            writer = store.writer(f"bytes-{uuid.uuid4()}")
            writer.write(data)
            writer.commit(digest)
    return blob


def blob_mount(*, repository: Repository, source: Repository, digest: str) -> Blob | None:
    """Make a blob of `source` available in `repository` without moving bytes (caller checked pull on source).

    The blob row is locked before it is marked as linked: if GC is deleting it, this waits and then
    finds nothing (the client uploads instead) rather than re-creating a row without bytes."""
    with transaction.atomic():
        blob = Blob.objects.select_for_update(of=("self",)).filter(digest=digest, repositoryblob__repository=source).first()
        if blob is None:
            return None
        blob.last_linked_at = timezone.now()
        blob.save(update_fields=["last_linked_at"])
        RepositoryBlob.objects.get_or_create(repository=repository, blob=blob)
    return blob


def blob_touch_interval() -> timedelta:
    """How stale `last_linked_at` may be before a blob HEAD refreshes it: a quarter of the GC grace,
    so a HEAD that answers "exists" keeps the blob for at least three quarters of the grace."""
    return timedelta(minutes=settings.BLOB_GC_GRACE_MINUTES) / 4


def blob_touch(*, blob: Blob, now=None) -> bool:
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


# --- garbage collection ---------------------------------------------------------------------


@dataclass
class GcReport:
    blobs_deleted: int = 0
    bytes_freed: int = 0
    sessions_deleted: int = 0


def blob_collect_garbage(*, grace: timedelta | None = None, session_ttl: timedelta | None = None, now=None) -> GcReport:
    """Delete blobs no manifest references and stale upload sessions.

    Safe against a push in progress: a blob linked, uploaded, mounted or answered "exists" to a
    blob HEAD (`blob_touch`) within `grace` is kept (a push commits or finds its layers before the
    manifest that references them), as is every upload
    session touched within `session_ttl`. Each candidate is re-checked under a row lock, which the
    commit and manifest paths also take, so a concurrent push either sees it gone or keeps it.
    """
    now = now or timezone.now()
    grace = grace if grace is not None else timedelta(minutes=settings.BLOB_GC_GRACE_MINUTES)
    session_ttl = session_ttl if session_ttl is not None else timedelta(hours=settings.UPLOAD_SESSION_TTL_HOURS)
    report = GcReport()
    store = get_blob_store()

    for session in UploadSession.objects.filter(updated_at__lt=now - session_ttl):
        upload_session_cancel(session=session)
        report.sessions_deleted += 1

    referenced = Exists(ManifestBlob.objects.filter(blob=OuterRef("pk"))) | Exists(Manifest.objects.filter(blob=OuterRef("pk")))
    candidates = Blob.objects.filter(last_linked_at__lt=now - grace).exclude(referenced).values_list("pk", flat=True)
    for pk in list(candidates):
        with transaction.atomic():
            blob = (
                Blob.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, last_linked_at__lt=now - grace)
                .exclude(referenced)
                .first()
            )
            if blob is None:
                continue
            blob.delete()
            store.delete(blob.digest)
        report.blobs_deleted += 1
        report.bytes_freed += blob.size
    log.info("blob gc: %s", report)
    return report
