"""Registry upload sessions (OCI push): start, append, finish, cancel, one writer at a time.

Every byte is hashed as it streams to its upload file; a blob exists (row and file) only after its
digest and length were verified (artifacts.blobs.links.blob_commit_verified makes it one). The
store's session writer keeps the bytes, and the state of its running sha256 is saved in the
session row with the offset (object_state): beside the local upload file (artifacts.blobs.store),
or with the parts of an S3 multipart upload (artifacts.blobs.s3_uploads); any process continues
the session hashing on from there, without reading back the bytes stored so far.
`streamed_upload` is the same write-while-hashing for a body that arrives whole (a monolithic
registry upload, a Helm chart package).

One writer per session, across threads, processes and machines:
On PostgreSQL a request that writes a session's bytes (PATCH, PUT, DELETE) first takes a
session-level advisory lock keyed by the session id, without waiting, and only then reads the
session row, so it sees the offset its predecessor saved before letting go. The lock lives in the
database, which every app node shares; a worker that dies (kill -9, a lost machine) drops its
connection and with it the lock, so a resume is never blocked by a dead writer. Advisory locks
belong to a database session: behind a transaction-pooling PgBouncer, give the app a
session-pooled connection (as for the prepared statements, docs/performance.md).

SQLite serves one machine only; there the blob store's exclusive file lock on the upload file
(taken by every writer, on every database) is the lock. On PostgreSQL that file lock is a second
fence: if a writer's database connection broke mid-body and another request took the advisory
lock, the file lock still keeps the two from writing the same file at once on one machine (or NFS).
On S3 the compare-and-set on the session's generation is that fence: a writer whose save is
refused stops, and completing the multipart upload with the saved parts' ETags assembles exactly
the bytes that were hashed.
"""
import hashlib
import logging
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from accounts.tokens import capability_signature, capability_valid
from artifacts.blobs.errors import BlobError, DigestMismatch, RangeMismatch, SizeMismatch, UploadGone, UploadInUse
from artifacts.blobs.links import blob_commit_verified
from artifacts.blobs.store import Checkpoint, SessionWriter, UploadBusy, get_blob_store
from artifacts.digests import DEFAULT_ALGORITHM, InvalidDigest, hash_alongside, hash_file, new_hasher, parse_digest
from artifacts.models import Blob, Repository, UploadSession
from artifacts.oci.fastpath import statements

log = logging.getLogger(__name__)


# While bytes arrive, the session's offset is saved every CHECKPOINT_BYTES (one UPDATE, with the
# running sha256's state: ~2.5 us to serialise against ~5 ms to hash the 8 MiB), so a worker killed
# mid-body loses at most that much: the client resumes from the Range a GET reports.
CHECKPOINT_BYTES = 8 * 1024 * 1024

def _hash_file_prefix(hasher, upload_id, length: int) -> None:
    with get_blob_store().open_upload(upload_id) as handle:
        if hash_file(hasher, handle, length=length) < length:
            raise BlobError("the upload's stored bytes are shorter than its offset")


# A session a POST starts has no row until its first PATCH (perf: the POST of a docker-style layer
# push writes nothing, and a PUT ?digest= with the whole body right after it stores the blob like a
# monolithic POST: 8 statements and a commit less per layer). Its URL carries the proof that the
# POST was made (distribution signs its `_state` into the URL the same way): a signature over the
# repository name, the session id and an expiry, so an id nobody was given stays unknown. Every
# request on it still checks the caller's push access. A pending session holds no bytes, so there
# is nothing to lose or collect: its URL is good for UPLOAD_SESSION_TTL_HOURS, as an idle session.
# Its id has no row to end, so once the upload is done, cancelled or collected, the signed URL
# starts afresh (an empty upload) until it expires; the URL of a session with a row (the one each
# PATCH answers with) is unknown from then on.
PENDING_PURPOSE = "registry-upload"


@dataclass(frozen=True)
class SessionRef:
    """The last segment of an upload URL: `<id>` (a session with a row), or `<id>.<expires>.<signature>`
    (a session a POST started: `pending`, it may have no row yet)."""

    session_id: uuid.UUID
    pending: bool = False
    segment: str = ""


def upload_session_start(*, repository_name: str, now: float | None = None) -> SessionRef:
    """A new upload session of repository `repository_name`, pending: nothing is stored until its first
    PATCH (upload_session_create) or PUT ?digest= (blob_upload); see PENDING_PURPOSE."""
    session_id = uuid.uuid4()
    expires_at = int(time.time() if now is None else now) + settings.UPLOAD_SESSION_TTL_HOURS * 3600
    signature = capability_signature(purpose=PENDING_PURPOSE, subject=f"{repository_name}/{session_id}", expires_at=expires_at)
    return SessionRef(session_id, pending=True, segment=f"{session_id}.{expires_at}.{signature}")


def upload_session_ref(*, repository_name: str, segment: str, now: float | None = None) -> SessionRef | None:
    """The session an upload URL's last segment names (None: not a session id); `pending` when it
    carries a valid, unexpired signature of a POST in repository `repository_name`."""
    session_part, _, signed = segment.partition(".")
    try:
        session_id = uuid.UUID(session_part)
    except ValueError:
        return None
    expires_at, _, signature = signed.partition(".")
    pending = expires_at.isascii() and expires_at.isdigit() and capability_valid(
        signature, purpose=PENDING_PURPOSE, subject=f"{repository_name}/{session_id}", expires_at=int(expires_at), now=now,
    )
    return SessionRef(session_id, pending=pending, segment=segment)


def upload_session_create(
    *, repository_id: int, repository_name: str, session_id: uuid.UUID, user_id: int | None = None
) -> UploadSession | None:
    """The row of pending session `session_id`, made by its first PATCH under the writer lock
    (upload_session_claimed found none); the row another request made meanwhile (SQLite has no
    writer lock) when there is one. `user_id` (the verified token's subject) records the creator;
    a user deleted since the token was issued records none.

    perf: on PostgreSQL the row is committed without waiting for the WAL flush (asynchronous
    commit, ~2 ms of fsync here). A database crash can then lose only a session that has not stored
    anything yet: the checkpoint that saves the PATCH's bytes commits synchronously, which flushes
    the WAL up to and including this row."""
    try:
        created = _session_create(repository_id, session_id, user_id)
    except IntegrityError:
        if user_id is None:
            raise
        created = _session_create(repository_id, session_id, None)
    if created is None:  # another request's row: its offset and hash state, never ours
        return statements.upload_session(repository_name, session_id)
    return created


def _session_create(repository_id: int, session_id: uuid.UUID, user_id: int | None) -> UploadSession | None:
    db = transaction.get_connection()
    insert = partial(statements.session_insert, session_id=session_id, repository_id=repository_id, user_id=user_id, now=timezone.now())
    if db.in_atomic_block:  # a caller's transaction, holding other writes: flushed with them; a savepoint
        with transaction.atomic():  # keeps it usable if the row is refused
            inserted = insert()
    else:  # perf: one statement, its own transaction, not waiting for the WAL flush (no BEGIN/SET/COMMIT)
        inserted = insert(flush=False)
    if not inserted:
        return None
    return UploadSession.from_db(db.alias, statements.SESSION_FIELDS, [session_id, repository_id, 0, 0, user_id, None])


@contextmanager
def upload_session_claimed(*, repository_name: str, session_id: uuid.UUID) -> Iterator[UploadSession | None]:
    """Upload session `session_id` of repository `repository_name` (None when there is none), for
    the calling request alone to write, append to, commit or cancel until the block ends; read
    after the claim, so its offset is the one the previous writer saved. UploadInUse (416 with the
    session's Range) while another request, on any node, holds it (upload_writer_lock)."""
    with upload_writer_lock(session_id) as held:
        session = statements.upload_session(repository_name, session_id)
        if session is not None and not held:
            raise UploadInUse(session)
        yield session


def _checkpoint(session: UploadSession, writer: SessionWriter, checkpoint: Checkpoint, *, told: bool = True) -> None:
    """Save the checkpoint with a new generation (a compare-and-set on the one this request read).

    perf: a save made while the body streams (`told=False`: no client is answered with it) is
    committed asynchronously where the writer's earlier saves stay valid (local files): 128
    synchronous commits per GiB were 0.3-1.0 s of waiting for the WAL flush per GiB pushed. It
    outlives the worker like any commit; a database crash can only take the row back to an
    earlier save, as if the worker had been killed before this one (offset and hash state go
    together). The save whose Range a PATCH answers commits synchronously."""
    saved = statements.session_checkpoint(
        session_id=session.pk, offset=checkpoint.offset, object_state=checkpoint.object_state,
        generation=session.generation, now=timezone.now(), flush=told or not writer.earlier_saves_stay_valid,
    )
    if not saved:
        writer.refused(checkpoint)
        raise UploadGone("the upload was cancelled or changed while this request wrote to it")
    session.offset, session.object_state, session.generation = checkpoint.offset, checkpoint.object_state, session.generation + 1
    writer.saved(checkpoint)


def _append(session: UploadSession, chunks: Iterable[bytes], start: int | None, *, save: bool) -> SessionWriter:
    """Write `chunks` at the session's offset while hashing, as its only writer (the caller claimed
    the session; the local upload file's own lock is taken too). A checkpoint is saved every
    CHECKPOINT_BYTES (on S3: every part), at the end when `save`, and when the body breaks off
    (kept for a resume). Returns the writer, still open (close it after committing)."""
    if start is not None and start != session.offset:
        raise RangeMismatch(f"chunk starts at {start}, the upload is at {session.offset}")
    try:
        writer = get_blob_store().session_writer(
            str(session.pk), offset=session.offset, object_state=session.object_state,
        )
    except UploadBusy:
        raise UploadInUse(session) from None
    try:
        for chunk in chunks:
            # Saved before the next piece, not after this one: the body's last bytes are then always
            # saved by the end's synchronous save (a body of a multiple of CHECKPOINT_BYTES would
            # otherwise be answered after an unflushed one), and a PUT's commit needs no save.
            checkpoint = writer.checkpoint(every=CHECKPOINT_BYTES)
            if checkpoint is not None:
                _checkpoint(session, writer, checkpoint, told=False)
            writer.write(chunk)
        if save:
            checkpoint = writer.pause()
            if checkpoint is not None:
                _checkpoint(session, writer, checkpoint)
    except BaseException:
        _save_broken_off(session, writer)
        raise
    return writer


def _save_broken_off(session: UploadSession, writer: SessionWriter) -> None:
    """After the body broke off with an error: save what reached the store, for a resume. The
    writer's checkpoint holds a hash state only when it covers exactly the bytes stored (a write
    that broke off between the file and the hash leaves none, and the resume re-hashes the local
    file's prefix). Best effort: the last checkpoint stands otherwise."""
    try:
        checkpoint = writer.pause()
        writer.close()
        if checkpoint is not None:
            _checkpoint(session, writer, checkpoint)
    except Exception:
        log.warning("upload %s: could not save the offset of a broken-off body", session.pk, exc_info=True)


def upload_session_append(*, session: UploadSession, chunks: Iterable[bytes], start: int | None = None) -> UploadSession:
    """Append a chunk at the session's offset (claimed with upload_session_claimed). A chunk that
    does not start there is refused (416); bytes received before a dropped connection are kept,
    so the client can resume."""
    writer = _append(session, chunks, start, save=True)
    writer.close()
    return session


def upload_session_finish(
    *, session: UploadSession, chunks: Iterable[bytes] = (), digest: str, start: int | None = None, size: int | None = None
) -> Blob:
    """The last chunk (possibly none) and the commit in one request (PUT ?digest=), on a claimed
    session: the bytes are verified against `digest` (and `size`) and become a blob of the
    session's repository. The offset is not saved in between (perf: one UPDATE and one commit less
    per layer); a body that breaks off still saves what arrived, for a resume. On a mismatch the
    session and its bytes are discarded and nothing is stored; a store that fails (StorageUnavailable)
    leaves the session at its saved offset, for the client's retry."""
    writer = _append(session, chunks, start, save=False)
    try:
        try:
            _verify(
                digest=digest, sha256_hasher=writer.sha256, stored=writer.seal, upload_id=session.pk,
                length=writer.offset, size=size,
            )
            writer.seal()
        except (DigestMismatch, SizeMismatch):  # other bytes than the client said: nothing to resume
            writer.cancel()
            upload_session_cancel(session=session)
            raise
        # The writer (and its file lock) stays open until the file is renamed into the store.
        with transaction.atomic():
            blob = blob_commit_verified(
                digest=digest, size=writer.offset, upload_id=str(session.pk), link_repository_id=session.repository_id,
            )
            statements.session_delete(session.pk)
    except FileNotFoundError:  # the repository was deleted meanwhile, and its upload files with it
        raise UploadGone("the upload was removed while this request wrote to it") from None
    finally:
        writer.close()
    return blob


def _verify(*, digest: str, sha256_hasher, stored, upload_id, length: int, size: int | None) -> None:
    """Raise DigestMismatch/SizeMismatch unless the upload's `length` bytes have `digest` (and `size`).
    `sha256_hasher` is called for the running sha256 only when the digest is a sha256 one; any
    other is re-hashed from the store, after `stored()` (the writer's seal) has put the bytes there."""
    try:
        parsed = parse_digest(digest)
    except InvalidDigest as exc:
        raise DigestMismatch(str(exc)) from None
    if parsed.algorithm == DEFAULT_ALGORITHM:
        hasher = sha256_hasher()
    else:
        stored()
        hasher = new_hasher(parsed.algorithm)
        _hash_file_prefix(hasher, upload_id, length)
    actual = f"{parsed.algorithm}:{hasher.hexdigest()}"
    if actual != digest:
        raise DigestMismatch(f"the uploaded content has digest {actual}, not {digest}")
    if size is not None and size != length:
        raise SizeMismatch(f"the uploaded content is {length} bytes, not {size}")


def blob_upload(*, repository: Repository, chunks: Iterable[bytes], digest: str) -> Blob:
    """A whole blob in one request (POST ?digest= with the body): streamed to an upload file of its
    own while hashed, verified, then the blob row, its file and the repository link in one
    transaction. No upload session row: nothing can resume it, so a body that breaks off or does
    not match is deleted here (perf: one INSERT, one UPDATE, one DELETE and two commits less per layer)."""
    try:
        algorithm = parse_digest(digest).algorithm
    except InvalidDigest as exc:
        raise DigestMismatch(str(exc)) from None
    with streamed_upload(chunks, algorithm=algorithm) as upload:
        if upload.digest != digest:
            raise DigestMismatch(f"the uploaded content has digest {upload.digest}, not {digest}")
        with transaction.atomic():
            blob = blob_commit_verified(
                digest=digest, size=upload.size, upload_id=upload.upload_id, link_repository_id=repository.pk,
            )
    return blob


@dataclass(frozen=True)
class StreamedUpload:
    upload_id: str
    digest: str  # of the bytes streamed, `<algorithm>:<hex>`
    size: int


class UploadTooLarge(BlobError):
    """The bytes streamed exceed the caller's `max_bytes`."""


@contextmanager
def streamed_upload(
    chunks: Iterable[bytes], *, algorithm: str = DEFAULT_ALGORITHM, max_bytes: int | None = None, prefix: str = ""
) -> Iterator[StreamedUpload]:
    """`chunks` written to an upload file of their own while hashed (what is hashed is what was
    written); the file is the caller's to inspect or commit (blob_commit_verified) inside the block,
    and is deleted when the block ends if it was not committed, or when streaming fails.
    UploadTooLarge, with nothing kept, past `max_bytes`."""
    store = get_blob_store()
    upload_id = f"{prefix}{uuid.uuid4()}"
    writer = store.writer(upload_id)
    try:
        hasher, size = new_hasher(algorithm), 0
        for chunk in chunks:
            size += len(chunk)
            if max_bytes is not None and size > max_bytes:
                raise UploadTooLarge(f"the upload is larger than {max_bytes} bytes")
            hash_alongside(hasher, chunk, partial(writer.write, chunk))
        writer.close()
        yield StreamedUpload(upload_id=upload_id, digest=f"{algorithm}:{hasher.hexdigest()}", size=size)
    finally:
        writer.cancel()  # closes; the file is gone already if it was committed (renamed into the store)


def upload_session_cancel(*, session: UploadSession) -> None:
    """Drop a session and its bytes. Callers other than a finishing PUT claim the session first
    (a writer elsewhere keeps its bytes out of the store: its next save finds the session gone)."""
    get_blob_store().delete_upload(str(session.pk))
    UploadSession.objects.filter(pk=session.pk).delete()


# --- the writer lock ---------------------------------------------------------------------------


def lock_key(session_id: uuid.UUID) -> int:
    """A signed 64-bit advisory lock key for the session (namespaced, so other advisory locks of
    the database cannot collide with it by accident)."""
    digest = hashlib.blake2b(session_id.bytes, digest_size=8, person=b"upload-session").digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def upload_writer_lock(session_id: uuid.UUID) -> Iterator[bool]:
    """Try to become the session's only writer: yields True when this request holds the lock until
    the block ends, False when another request holds it (nothing waits)."""
    if connection.vendor != "postgresql":
        yield True  # one machine: the upload file's lock (blob store) is the writer lock
        return
    key = lock_key(session_id)
    held = statements.upload_lock(key)
    try:
        yield held
    finally:
        if held:
            try:
                statements.upload_unlock(key)
            except DatabaseError:
                # The connection is unusable (e.g. the database restarted): closing it is what
                # releases a session-level lock, if the server still holds one.
                connection.close()


def upload_sessions_collect_stale(*, older_than: datetime) -> int:
    """Drop sessions not saved since `older_than` with their bytes (garbage collection); a request
    writing one now keeps it. How many were dropped."""
    dropped = 0
    for session_id in list(UploadSession.objects.filter(updated_at__lt=older_than).values_list("pk", flat=True)):
        with upload_writer_lock(session_id) as held:
            session = UploadSession.objects.filter(pk=session_id, updated_at__lt=older_than).first() if held else None
            if session is not None:
                upload_session_cancel(session=session)
                dropped += 1
    return dropped
