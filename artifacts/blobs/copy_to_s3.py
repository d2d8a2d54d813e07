"""Moving an installation's blobs from local files into its S3 bucket (`manage.py copy_blobs_to_s3`).

Every committed blob file of the local store (`<root>/blobs/<alg>/<hex[:2]>/<hex>`) is uploaded to
its object key in the bucket STORAGES["blobs"] names, hashed while it is read, through the store's
own writer (artifacts.blobs.s3_uploads.S3Writer) on the blob's key: bytes that do not hash to
their digest never become an object at that address (a file within one part is hashed before its
one PUT; a larger one goes up as a multipart upload that is completed only when the hash matched,
and aborted otherwise), so the blob integrity rule holds across the move. An object already there with
the file's size is left alone, so a run that stopped can simply be started again.

Upload files in progress (`uploads/`) and quarantined files are not copied: an unfinished upload is
restarted by its client, and a quarantined file is never served.
"""
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from artifacts.blobs.s3_store import S3BlobStore
from artifacts.blobs.s3_uploads import MIN_PART_SIZE, S3Writer
from artifacts.blobs.store import blob_path
from artifacts.digests import InvalidDigest, new_hasher, parse_digest

READ_CHUNK = 1024 * 1024  # the file is read (and hashed) in pieces this size
DEFAULT_PART_SIZE = 64 * 1024 * 1024  # 10,000 parts (S3's most) reach 640 GiB


@dataclass(frozen=True)
class LocalBlob:
    digest: str
    path: Path
    size: int


@dataclass
class CopyReport:
    copied: int = 0
    bytes_copied: int = 0
    already_there: int = 0
    to_copy: int = 0  # with dry_run: what a run would copy
    mismatches: list[str] = field(default_factory=list)  # "<digest> <problem>"
    not_blobs: list[str] = field(default_factory=list)  # files under blobs/ whose path is no content address
    uploads_left: int = 0  # unfinished upload files, not copied


def local_blobs(root: Path, report: CopyReport) -> Iterator[LocalBlob]:
    """The blob files under `root`, in path order; files whose path is not a content address go to
    `report.not_blobs` instead."""
    for path in sorted(p for p in (root / "blobs").rglob("*") if p.is_file()):
        relative = path.relative_to(root)
        try:
            digest = f"{relative.parts[1]}:{path.name}"
            if len(relative.parts) != 4 or relative.as_posix() != str(blob_path(digest)):
                raise InvalidDigest(digest)
        except (InvalidDigest, IndexError):
            report.not_blobs.append(relative.as_posix())
            continue
        yield LocalBlob(digest=digest, path=path, size=path.stat().st_size)


def blob_store_copy_to_s3(
    *, store: S3BlobStore, source_root: Path, dry_run: bool = False, part_size: int = DEFAULT_PART_SIZE,
    progress: Callable[[str], None] = lambda line: None,
) -> CopyReport:
    """Copy every blob file under `source_root` to the bucket, verifying each digest on the way (see
    the module's docstring); one `progress` line per file. With `dry_run`, only say what would go."""
    if part_size < MIN_PART_SIZE:
        raise ValueError(f"parts must be at least {MIN_PART_SIZE} bytes")
    report = CopyReport()
    uploads = source_root / "uploads"
    report.uploads_left = sum(1 for p in uploads.iterdir() if p.is_file()) if uploads.is_dir() else 0
    blobs = list(local_blobs(source_root, report))
    for number, blob in enumerate(blobs, start=1):
        prefix = f"[{number}/{len(blobs)}] {blob.digest} ({blob.size} bytes)"
        stat = store.stat(blob.digest)
        if stat is not None and stat.size == blob.size:
            report.already_there += 1
            progress(f"{prefix}: already in the bucket")
            continue
        if dry_run:
            report.to_copy += 1
            progress(f"{prefix}: would be copied")
            continue
        problem = _upload_verified(store, blob, part_size)
        if problem:
            report.mismatches.append(f"{blob.digest} {problem}")
            progress(f"{prefix}: NOT COPIED, {problem}")
            continue
        report.copied += 1
        report.bytes_copied += blob.size
        progress(f"{prefix}: copied")
    return report


def _upload_verified(store: S3BlobStore, blob: LocalBlob, part_size: int) -> str | None:
    """Upload the file to its content address if its bytes hash to its digest; else what is wrong."""
    parsed = parse_digest(blob.digest)
    hasher = new_hasher(parsed.algorithm)
    writer = S3Writer(store, store.key(blob_path(blob.digest)), part_bytes=part_size)
    try:
        with open(blob.path, "rb") as handle:
            while chunk := handle.read(READ_CHUNK):
                hasher.update(chunk)
                writer.write(chunk)
        if hasher.hexdigest() != parsed.hex:
            return f"does not hash to its digest ({parsed.algorithm}:{hasher.hexdigest()})"
        writer.close()
    finally:
        writer.abort()  # never `cancel`: an object already at the address may be the right one
    stat = store.stat(blob.digest)  # read back with HEAD (Ceph RGW answers a multipart complete without an ETag)
    if stat is None or stat.size != blob.size:  # not with a sound server; if so, nothing stays at the address
        store.delete(blob.digest)
        return f"was not stored whole by the bucket ({stat.size if stat else 0} of {blob.size} bytes)"
    return None

