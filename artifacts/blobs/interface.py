"""What every blob store is: where its bytes live (the keys, built only here) and the interface
the local store (artifacts.blobs.store) and the S3 store (artifacts.blobs.s3_store) both answer.

Where blobs and upload files live, relative to the store's root (local files)
or the bucket's `location` (S3 keys):

    <BLOB_STORE_ROOT>/
        blobs/
            sha256/
                ab/
                    abcdef0123…      the bytes whose sha256 is abcdef0123…
            sha512/
                cd/
                    cdef…
        uploads/
            <session uuid>          bytes received so far for one upload session
        quarantine/
            sha256/
                abcdef0123….<time>   a stored blob whose bytes did not hash to its name (verify_blobs --repair)

On S3, an upload in progress is a multipart upload on uploads/<id>, with uploads/<id>.<token>
holding the bytes after its last part (artifacts.blobs.s3_uploads).

Blobs are written once (renamed or copied into place when an upload commits) and never modified
in place; a verified upload may replace one at its address that nothing had verified.
"""
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import BinaryIO, Protocol

from artifacts.digests import parse_digest


def blob_path(digest: str) -> PurePosixPath:
    parsed = parse_digest(digest)
    return PurePosixPath("blobs", parsed.algorithm, parsed.hex[:2], parsed.hex)


def upload_path(session_id: str) -> PurePosixPath:
    name = str(session_id)
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"bad upload session id {session_id!r}")
    return PurePosixPath("uploads", name)


def quarantine_path(digest: str, when: float) -> PurePosixPath:
    parsed = parse_digest(digest)
    return PurePosixPath("quarantine", parsed.algorithm, f"{parsed.hex}.{when:.6f}")


@dataclass(frozen=True)
class BlobStat:
    size: int
    mtime: float


class Hasher(Protocol):
    def update(self, data: bytes, /) -> None: ...
    def hexdigest(self) -> str: ...


class BlobWriter(Protocol):
    """Writes the bytes of an upload that arrive in one request (streamed_upload): `close` makes
    them the upload uploads/<id>, for the caller to inspect and commit; `cancel` drops them."""

    offset: int

    def write(self, data: bytes) -> None: ...
    def close(self) -> None: ...
    def cancel(self) -> None: ...


@dataclass(frozen=True)
class Checkpoint:
    """What an upload session's row saves in one UPDATE for its bytes to survive the request:
    `offset` (the bytes stored so far) and `object_state`, the store's own: the running sha256 over
    those bytes and, on an object store, where they are."""

    offset: int
    object_state: dict | None = None


class SessionWriter(Protocol):
    """Appends to a registry upload session, as its only writer, while hashing (`sha256()`: the
    running hash of every byte received). The caller saves each Checkpoint it gets in the session's
    row and says so (`saved`), or that the row refused it (`refused`); a later request, in any
    process, continues from the saved one and hashes on from the state it holds. `seal` makes
    everything received the upload uploads/<id>, for verification and commit_upload."""

    offset: int  # bytes received so far, stored or not yet
    # `saved` removes nothing an earlier checkpoint names: the row may fall back to an earlier
    # save (one committed asynchronously, then lost in a database crash) and still be resumed.
    earlier_saves_stay_valid: bool

    def write(self, data: bytes) -> None: ...
    def checkpoint(self, *, every: int) -> Checkpoint | None: ...  # due mid-body (local: each `every` bytes)
    def pause(self) -> Checkpoint | None: ...  # the end of a request's bytes: all stored (None: nothing new)
    def saved(self, checkpoint: Checkpoint) -> None: ...
    def refused(self, checkpoint: Checkpoint) -> None: ...
    def seal(self) -> None: ...
    def sha256(self) -> Hasher: ...
    def close(self) -> None: ...
    def cancel(self) -> None: ...


class BlobStore(Protocol):
    """What both stores do. The local store also serves multipart transfers from its files
    (reserve_upload, upload_part, sealed_upload); on S3 they are S3's own multipart uploads."""

    redirects: bool  # downloads may be answered with a redirect to `presigned_get`

    def exists(self, digest: str) -> bool: ...
    def stat(self, digest: str) -> BlobStat | None: ...
    def open(self, digest: str, offset: int = 0) -> BinaryIO: ...
    def delete(self, digest: str) -> None: ...
    def put(self, digest: str, data: bytes) -> None: ...
    def writer(self, upload_id: str) -> BlobWriter: ...
    def session_writer(self, session_id: str, *, offset: int, object_state: dict | None) -> SessionWriter: ...
    def open_upload(self, session_id: str) -> BinaryIO: ...
    def delete_upload(self, session_id: str) -> None: ...
    def commit_upload(self, session_id: str, digest: str) -> None: ...
    def quarantine(self, digest: str) -> str | None: ...
    def stale_uploads(self, *, modified_before: float) -> list[str]: ...
    def abort_stale_multipart_uploads(self, *, initiated_before: float, keep: Callable[[str], bool]) -> int: ...
    def presigned_get(self, digest: str, *, content_type: str | None = None, filename: str | None = None) -> str | None: ...
