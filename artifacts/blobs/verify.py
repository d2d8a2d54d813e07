"""Re-verification of what storage holds (manage.py verify_blobs) and quarantine.

`blob_verify_stored` re-hashes stored blobs; `blob_quarantine` moves a blob that fails aside, so the
next genuine upload of that content replaces it (artifacts.blobs.links.blob_commit_verified never
trusts a file nothing verified).
"""
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from artifacts.blobs.gc import blob_referenced
from artifacts.blobs.store import BlobStore, get_blob_store
from artifacts.digests import hash_file, new_hasher, parse_digest
from artifacts.models import Blob, RepositoryBlob

log = logging.getLogger(__name__)


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
    with store.open(digest) as handle:
        hash_file(hasher, handle)
    if hasher.hexdigest() != parsed.hex:
        return f"does not hash to its digest in storage ({parsed.algorithm}:{hasher.hexdigest()})"
    return None


def blob_check_stored(digest: str, size: int, *, store: BlobStore | None = None, rehash: bool = True) -> str | None:
    """`blob_stored_problem`; a blob whose bytes were re-hashed and match is marked verified."""
    problem = blob_stored_problem(digest, size, store=store, rehash=rehash)
    if problem is None and rehash:
        Blob.objects.filter(digest=digest, verified_at__isnull=True).update(verified_at=timezone.now())
    return problem


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
    for digest, size in rows.values_list("digest", "size").iterator():
        problem = blob_check_stored(digest, size, store=store)
        report.checked += 1
        report.bytes_checked += size
        if problem is None:
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
