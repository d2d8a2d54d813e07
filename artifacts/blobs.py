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
So a file at an address is never trusted because it is there. The row's lock (the upsert's) is held
while the file is placed; garbage collection and quarantine take the same lock.

`blob_verify_stored` re-hashes what storage holds (manage.py verify_blobs); `blob_quarantine` moves a
blob that fails aside, so the next genuine upload of that content replaces it.
"""
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from artifacts.oci.fastpath import statements
from artifacts.digests import new_hasher, parse_digest
from artifacts.models import ArtifactFile, Blob, Logo, Manifest, ManifestBlob, MultipartUpload, RepositoryBlob
from artifacts.storage import BlobStore, get_blob_store

log = logging.getLogger(__name__)
HASH_BUFFER = 1024 * 1024


def blob_commit_verified(
    *, digest: str, size: int, upload_id: str | None = None, data: bytes | None = None, media_type: str = ""
) -> Blob:
    """Make verified bytes the blob `digest`: the upload file `upload_id` (which the caller hashed
    to `digest`, as its only writer, and keeps from other writers until this returns), or `data`
    (already in memory). The row is created if new, locked and marked as just linked (keeps GC off
    it). Call inside transaction.atomic()."""
    now = timezone.now()
    blob_id, verified_at = statements.blob_upsert(digest=digest, size=size, media_type=media_type, now=now)
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
        upload_id = f"bytes-{uuid.uuid4()}"
        writer = store.writer(upload_id)
        try:
            writer.write(data or b"")
            writer.close()
            store.commit_upload(upload_id, digest)
        except BaseException:
            writer.cancel()
            raise
        return
    store.commit_upload(upload_id, digest)


def _loaded(blob_id: int, digest: str, size: int, media_type: str, verified_at) -> Blob:
    return Blob.from_db(
        transaction.get_connection().alias,
        ["id", "digest", "size", "media_type", "verified_at"],
        [blob_id, digest, size, media_type, verified_at],
    )


def blob_referenced() -> Q:
    """Rows that something keeps (a manifest, a model or resource file, a completed multipart upload
    not yet committed, a Helm chart version, an uploaded logo): a condition on Blob, for GC and quarantine."""
    from helmrepo.models import ChartVersion  # Helm chart packages (helmrepo builds on artifacts)

    return (
        Q(Exists(ManifestBlob.objects.filter(blob=OuterRef("pk"))))
        | Q(Exists(Manifest.objects.filter(blob=OuterRef("pk"))))
        | Q(Exists(ArtifactFile.objects.filter(blob=OuterRef("pk"))))
        | Q(Exists(MultipartUpload.objects.filter(blob=OuterRef("pk"))))
        | Q(Exists(ChartVersion.objects.filter(package=OuterRef("pk"))))
        | Q(Exists(Logo.objects.filter(blob=OuterRef("pk"))))
    )


# --- re-verification (manage.py verify_blobs) ----------------------------------------------------


def blob_stored_problem(digest: str, size: int, *, store: BlobStore | None = None, rehash: bool = True) -> str | None:
    """What is wrong with the stored bytes of blob `digest` (missing, another size, other bytes),
    or None when storage holds exactly `size` bytes that hash to it (`rehash`; else size only)."""
    store = store or get_blob_store()
    stat = store.stat(digest)
    if stat is None:
        return "is missing from storage"
    if stat.size != size:
        return f"is {stat.size} bytes in storage, not {size}"
    if not rehash:
        return None
    parsed = parse_digest(digest)
    hasher = new_hasher(parsed.algorithm)
    view = memoryview(bytearray(HASH_BUFFER))
    with store.open(digest) as handle:
        while n := handle.readinto(view):
            hasher.update(view[:n])
    if hasher.hexdigest() != parsed.hex:
        return f"does not hash to its digest in storage ({parsed.algorithm}:{hasher.hexdigest()})"
    return None


@dataclass
class BlobMismatch:
    digest: str
    problem: str
    quarantined_to: str | None = None  # where the file went (relative to the store), with repair
    repaired: bool = False


@dataclass
class VerifyReport:
    checked: int = 0
    bytes_checked: int = 0
    mismatches: list[BlobMismatch] = field(default_factory=list)


def blob_verify_stored(*, repair: bool = False, digests: Iterable[str] | None = None) -> VerifyReport:
    """Re-hash every stored blob (or those of `digests`). A blob that matches is marked verified;
    one that does not is reported and, with `repair`, quarantined (see blob_quarantine)."""
    store = get_blob_store()
    report = VerifyReport()
    rows = Blob.objects.order_by("pk")
    if digests is not None:
        rows = rows.filter(digest__in=list(digests))
    for pk, digest, size in rows.values_list("pk", "digest", "size").iterator():
        problem = blob_stored_problem(digest, size, store=store)
        report.checked += 1
        report.bytes_checked += size
        if problem is None:
            Blob.objects.filter(pk=pk, verified_at__isnull=True).update(verified_at=timezone.now())
            continue
        if not repair:
            report.mismatches.append(BlobMismatch(digest=digest, problem=problem))
            continue
        repaired = blob_quarantine(digest=digest)
        if repaired is not None:  # else a genuine upload replaced the file meanwhile, or GC took the blob
            report.mismatches.append(repaired)
    return report


def blob_quarantine(*, digest: str) -> BlobMismatch | None:
    """Take a blob whose stored bytes do not verify out of service, under its row lock (re-checked
    there: a genuine upload may have replaced the file meanwhile; None when it is fine now).

    The file moves to quarantine/; no repository holds the blob any more (a registry HEAD answers
    unknown, so clients upload it again) and the dedup checks stop offering it; a row nothing
    references is deleted, a referenced one marked unverified, so the next genuine upload of the
    content (any face) replaces the file. Until then what references it cannot be downloaded."""
    store = get_blob_store()
    with transaction.atomic():
        blob = Blob.objects.select_for_update().filter(digest=digest).first()
        if blob is None:
            return None
        problem = blob_stored_problem(digest, blob.size, store=store)
        if problem is None:
            return None
        moved = store.quarantine(digest)
        RepositoryBlob.objects.filter(blob=blob).delete()
        if Blob.objects.filter(pk=blob.pk).filter(blob_referenced()).exists():
            Blob.objects.filter(pk=blob.pk).update(verified_at=None)
        else:
            blob.delete()
    log.warning("blob %s %s: quarantined to %s", digest, problem, moved)
    return BlobMismatch(digest=digest, problem=problem, quarantined_to=moved, repaired=True)
