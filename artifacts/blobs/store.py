"""The local-filesystem blob store, and `get_blob_store` (local files, or S3: artifacts.blobs.s3_store).

Blobs are addressed by digest and never modified in place. Bytes arrive through a writer bound
to an upload file: a session's (`LocalSessionWriter`) appends at the session's offset under an
exclusive lock on the file (one writer at a time), survives a dropped connection (the partial file stays until the session
is committed, cancelled or collected), saves its running sha256 with each checkpoint (any process
goes on hashing from there), and `commit_upload` moves the file to its content address
atomically, replacing whatever was there. Verifying the digest, and deciding whether a file
already at the address can be trusted instead, is the caller's job (artifacts.blobs.links), which
hashes while it streams. `quarantine` moves a stored blob that failed re-verification aside.

Multipart transfers (NGC API) use the same uploads/<id> files differently: `reserve_upload` sizes
the file once, each part is written at its own offset by `upload_part` (parts arrive in any order,
in parallel, and may be retried), and `sealed_upload` gives the completing request the file with no
part writer inside it, so the bytes hashed are the bytes that become the blob. The two take a
shared and an exclusive `flock` on the file: a part writer that waited for a seal must re-check
that its session is still open before writing (the file may have become a blob meanwhile).

Where blobs and upload files live: artifacts.blobs.interface (the layout, and the protocol both
stores answer). Blob files are written once (renamed into place when an upload commits) and never
modified in place; a verified upload may replace a file at its address that nothing had verified.
"""
import fcntl
import functools
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages

from artifacts.blobs.errors import BlobError
from artifacts.blobs.interface import (  # noqa: F401 (re-exported: callers import the store's names from here)
    BlobStat,
    BlobStore,
    BlobWriter,
    Checkpoint,
    Hasher,
    SessionWriter,
    blob_path,
    quarantine_path,
    upload_path,
)
from artifacts.digests import ResumableSha256, hash_alongside, hash_file


class UploadBusy(Exception):
    """Another writer holds the upload file (a registry upload being written by another request,
    or a part still being written into a multipart upload that is asked to be sealed)."""


class PartWriter:
    """Writes one part of a multipart upload at its offset (positional writes, no shared file offset)."""

    def __init__(self, fd: int, offset: int):
        self._fd = fd
        self.offset = offset

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.pwrite(self._fd, view, self.offset)
            self.offset += written
            view = view[written:]


class LocalWriter:
    """Appends to an upload file from `offset` (anything past it, from a dropped request, is cut),
    holding an exclusive lock on the file until closed: UploadBusy at once when another writer
    holds it. The lock is taken before anything is cut, so a refused writer changes nothing; keep
    the writer open until the file has been committed (renamed), so no writer can slip in between."""

    def __init__(self, store: "LocalBlobStore", session_id: str, offset: int):
        self._store = store
        self._session_id = session_id
        self._path = store._abs(upload_path(session_id))
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise UploadBusy(f"upload {session_id} is being written by another request") from None
        self._file = os.fdopen(fd, "r+b")
        self._file.truncate(offset)
        self._file.seek(offset)
        self.offset = offset

    def write(self, data: bytes) -> None:
        self._file.write(data)
        self.offset += len(data)

    def flush(self) -> None:
        """Hand what was written to the operating system (it survives this process dying)."""
        self._file.flush()

    def close(self) -> None:
        if not self._file.closed:
            self._file.flush()
            self._file.close()  # also releases the lock

    def cancel(self) -> None:
        self.close()
        self._path.unlink(missing_ok=True)


class LocalSessionWriter(LocalWriter):
    """A LocalWriter for a registry upload session: hashes as it writes, and each checkpoint is the
    file's length handed to the operating system (the bytes are in the file already) and the running
    sha256 over exactly those bytes, so any process on this machine continues the session without
    re-reading them:

        object_state = {"sha256": <artifacts.digests.ResumableSha256 state>, "boot": <machine_boot_id()>}

    The bytes are flushed, not synced: every process reads them until the machine restarts, but a
    crash may lose them while the row keeps the offset (PostgreSQL syncs it). A state saved in
    another boot (or on another machine sharing the files), or none at all (a session saved before
    states were, or a body that broke off between writing and hashing), is not trusted: the file's
    prefix is re-hashed, so the digest check sees what the file really holds."""

    earlier_saves_stay_valid = True  # a resume from any saved offset cuts the file back to it

    def __init__(self, store: "LocalBlobStore", session_id: str, offset: int, object_state: dict | None):
        super().__init__(store, session_id, offset)
        self._saved_offset = offset
        try:
            # After the lock: no other writer is changing the prefix this may re-hash.
            self._sha256 = self._resumed_sha256(object_state or {})
        except BaseException:
            self.close()
            raise
        self._hashed: int | None = offset  # bytes the running hash covers (== offset unless a write broke off)

    def _resumed_sha256(self, state: dict) -> ResumableSha256:
        if not self.offset:
            return ResumableSha256()
        boot = machine_boot_id()
        if state.get("sha256") and boot is not None and state.get("boot") == boot:
            return ResumableSha256(state["sha256"])
        return self._rehashed_prefix()

    def _rehashed_prefix(self) -> ResumableSha256:
        """The sha256 of the file's first `offset` bytes, read back (the fallback: one full read)."""
        hasher = ResumableSha256()
        self._file.seek(0)
        if hash_file(hasher, self._file, length=self.offset) < self.offset:
            raise BlobError("the upload's stored bytes are shorter than its offset")
        self._file.seek(self.offset)
        return hasher

    def write(self, data: bytes) -> None:
        # Unknown while the two run side by side: if either fails, the hash may hold bytes the file
        # does not (or the reverse), and a checkpoint then saves no state (a resume re-hashes).
        self._hashed = None
        hash_alongside(self._sha256, data, functools.partial(super().write, data))
        self._hashed = self.offset

    def checkpoint(self, *, every: int) -> Checkpoint | None:
        return self.pause() if self.offset - self._saved_offset >= every else None

    def pause(self) -> Checkpoint | None:
        if self.offset == self._saved_offset:
            return None
        self.flush()
        if self._hashed != self.offset:  # a write broke off (file and hash may differ): no state, re-hash on resume
            return Checkpoint(self.offset)
        return Checkpoint(self.offset, {"sha256": self._sha256.state(), "boot": machine_boot_id()})

    def saved(self, checkpoint: Checkpoint) -> None:
        self._saved_offset = checkpoint.offset

    def refused(self, checkpoint: Checkpoint) -> None:
        pass

    def seal(self) -> None:
        self.flush()  # the lock stays: the file is renamed into the store before close()

    def sha256(self) -> Hasher:
        return self._sha256


@functools.cache
def machine_boot_id() -> str | None:
    """This machine's boot, as the kernel names it (Linux), or None where there is no such name
    (then a saved running hash is never trusted: resumes re-hash the prefix)."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip() or None
    except OSError:
        return None


class LocalBlobStore:
    redirects = False  # the bytes are served by the app (artifacts.blobs.serve)

    def __init__(self, root: Path):
        self.root = Path(root)

    def presigned_get(self, digest: str, *, content_type: str | None = None, filename: str | None = None) -> None:
        return None

    def _abs(self, relative) -> Path:
        return self.root / relative

    def exists(self, digest: str) -> bool:
        return self._abs(blob_path(digest)).is_file()

    def stat(self, digest: str) -> BlobStat | None:
        try:
            result = os.stat(self._abs(blob_path(digest)))
        except FileNotFoundError:
            return None
        return BlobStat(size=result.st_size, mtime=result.st_mtime)

    def open(self, digest: str, offset: int = 0) -> BinaryIO:
        handle = open(self._abs(blob_path(digest)), "rb")
        if offset:
            handle.seek(offset)
        return handle

    def delete(self, digest: str) -> None:
        self._abs(blob_path(digest)).unlink(missing_ok=True)

    def put(self, digest: str, data: bytes) -> None:
        """Place verified bytes already in memory at their address (written aside, then renamed)."""
        upload_id = f"bytes-{uuid.uuid4()}"
        writer = self.writer(upload_id)
        try:
            writer.write(data)
            writer.close()
            self.commit_upload(upload_id, digest)
        except BaseException:
            writer.cancel()
            raise

    def writer(self, upload_id: str) -> LocalWriter:
        return LocalWriter(self, str(upload_id), 0)

    def session_writer(self, session_id: str, *, offset: int, object_state: dict | None) -> LocalSessionWriter:
        """The session's file, locked, from `offset`, hashing on from the running sha256 its
        `object_state` saved (LocalSessionWriter)."""
        return LocalSessionWriter(self, str(session_id), offset, object_state)

    def open_upload(self, session_id: str) -> BinaryIO:
        return open(self._abs(upload_path(str(session_id))), "rb")

    def delete_upload(self, session_id: str) -> None:
        self._abs(upload_path(str(session_id))).unlink(missing_ok=True)

    # --- multipart transfers ------------------------------------------------------------------

    def reserve_upload(self, session_id: str, size: int) -> None:
        """Create the upload file at its final length (sparse: no bytes are written here)."""
        path = self._abs(upload_path(str(session_id)))
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as handle:
            handle.truncate(size)

    @contextmanager
    def upload_part(self, session_id: str, offset: int, *, exclusive: bool = False) -> Iterator[PartWriter]:
        """A writer at `offset` of a reserved upload, holding a shared lock (many parts at once), or
        an exclusive one (`exclusive`: no other writer, e.g. a retry of the same part, interleaves its
        bytes, so what this writer hashed is what the file holds when it is done).
        FileNotFoundError when the upload is gone (completed, cancelled or collected)."""
        fd = os.open(self._abs(upload_path(str(session_id))), os.O_WRONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield PartWriter(fd, offset)
        finally:
            os.close(fd)  # also releases the lock

    @contextmanager
    def sealed_upload(self, session_id: str, *, wait_seconds: float = 60.0) -> Iterator[BinaryIO]:
        """The upload file opened for reading under an exclusive lock: no part writer is inside it
        until the block ends. UploadBusy when parts are still being written after `wait_seconds`."""
        handle = open(self._abs(upload_path(str(session_id))), "rb")
        try:
            deadline = time.monotonic() + wait_seconds
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise UploadBusy(f"parts of upload {session_id} are still being written") from None
                    time.sleep(0.05)
            yield handle
        finally:
            handle.close()

    def stale_uploads(self, *, modified_before: float) -> list[str]:
        """Ids of upload files not written since `modified_before` (a timestamp), for garbage collection."""
        folder = self._abs("uploads")
        if not folder.is_dir():
            return []
        with os.scandir(folder) as entries:
            return [e.name for e in entries if e.is_file() and e.stat().st_mtime < modified_before]

    def abort_stale_multipart_uploads(self, *, initiated_before: float, keep: Callable[[str], bool]) -> int:
        return 0  # local files have no multipart uploads: a part is written into the upload file itself

    def commit_upload(self, session_id: str, digest: str) -> None:
        """Move a verified upload file to its content address in one rename, replacing any file
        there (a reader that has the old one open keeps reading the old one)."""
        source = self._abs(upload_path(str(session_id)))
        target = self._abs(blob_path(digest))
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)

    def quarantine(self, digest: str) -> str | None:
        """Move the blob file aside (kept for inspection, never served); its new path relative to
        the store's root, or None when there was no file."""
        relative = quarantine_path(digest, time.time())
        target = self._abs(relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(self._abs(blob_path(digest)), target)
        except FileNotFoundError:
            return None
        return str(relative)


class BlobFileSystemStorage(FileSystemStorage):
    """STORAGES["blobs"] by default: files under settings.BLOB_STORE_ROOT, read when used (not when
    the storage was made), so a test or command that points BLOB_STORE_ROOT elsewhere moves it too."""

    @property
    def base_location(self):
        return self._value_or_setting(getattr(self, "_location", None), settings.BLOB_STORE_ROOT)

    @property
    def location(self):
        return os.path.abspath(self.base_location)


def is_object_store() -> bool:
    """Whether STORAGES["blobs"] is an object store (S3), not local files."""
    return not isinstance(storages["blobs"], FileSystemStorage)


def get_blob_store() -> BlobStore:
    """The blob store on STORAGES["blobs"]: local files (positional writes, file locks, renames)
    when it is a FileSystemStorage, else an object store (artifacts.blobs.s3_store) on its bucket."""
    storage = storages["blobs"]
    if isinstance(storage, FileSystemStorage):
        return LocalBlobStore(Path(storage.location))
    from artifacts.blobs.s3_store import S3BlobStore  # boto3 is imported only when S3 is configured

    return S3BlobStore(storage)
