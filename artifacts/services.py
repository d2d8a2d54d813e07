"""Writes on the shared blob store: upload sessions, blob commits, mounts, garbage collection.

Every byte is hashed as it streams to storage; a blob exists (row and file) only after its digest
and length were verified. Protocol-specific writes (repositories on first push, manifests, tags)
are in artifacts/oci/services.py; container repository metadata and removal (NGC API, portal)
are at the end of this module.
"""
import logging
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from registry_portal.errors import Conflict, InvalidInput, NotFound
from accounts.permissions import Action, Space, can, require
from accounts.roles import Service
from artifacts.oci.fastpath import statements
from artifacts.blobs import blob_commit_verified, blob_referenced
from artifacts.digests import DEFAULT_ALGORITHM, InvalidDigest, new_hasher, parse_digest
from artifacts.models import Blob, ManifestChild, MultipartUpload, Repository, RepositoryBlob, Tag, UploadSession
from artifacts.oci.names import InvalidName, resolve_name
from artifacts.storage import UploadBusy, get_blob_store
from artifacts.upload_locks import upload_writer_lock
from artifacts.versioned.transfers.multipart import multipart_collect_stale

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


class UploadInUse(RangeMismatch):
    """Another request is writing this upload session: 416 with the session's saved Range."""

    def __init__(self, session: UploadSession):
        super().__init__("another request is writing this upload; resume from the Range given once it is done")
        self.session = session


class UploadGone(BlobError):
    """The session was cancelled, collected or taken over while this request wrote to it."""

    code = "BLOB_UPLOAD_UNKNOWN"


# While bytes arrive, the session's offset is saved every CHECKPOINT_BYTES (one UPDATE), so a worker
# killed mid-body loses at most that much: the client resumes from the Range a GET reports.
CHECKPOINT_BYTES = 8 * 1024 * 1024

# Running hashers of the sessions this process saved: session id -> (generation, hasher over the
# first `offset` bytes of that generation). hashlib state cannot be stored in the database, so a
# request elsewhere (or after a restart, or after another request's save) re-hashes the prefix.
_hashers: dict[str, tuple[int, object]] = {}
_hashers_lock = threading.Lock()


def _session_hasher(session: UploadSession):
    key = str(session.pk)
    with _hashers_lock:
        entry = _hashers.pop(key, None)
    if entry is not None and entry[0] == session.generation:
        return entry[1]
    hasher = new_hasher(DEFAULT_ALGORITHM)
    if session.offset:
        _hash_file_prefix(hasher, session.pk, session.offset)
    return hasher


def _hash_file_prefix(hasher, upload_id, length: int) -> None:
    remaining = length
    with get_blob_store().open_upload(upload_id) as handle:
        while remaining:
            chunk = handle.read(min(READ_CHUNK, remaining))
            if not chunk:
                raise BlobError("the upload's stored bytes are shorter than its offset")
            hasher.update(chunk)
            remaining -= len(chunk)


def upload_session_start(*, repository: Repository, user=None, user_id: int | None = None) -> UploadSession:
    """A new upload session (its bytes arrive by PATCH/PUT). `user_id` (a verified token's subject)
    spares loading the user row; a user deleted since the token was issued records no creator.

    perf: on PostgreSQL the row is committed without waiting for the WAL flush (asynchronous
    commit, ~2 ms of fsync per layer here). A database crash can then lose only sessions that
    have not stored anything yet: the first PATCH/PUT that does commits synchronously, which
    flushes the WAL up to and including this row; the client of a lost session gets
    BLOB_UPLOAD_UNKNOWN and starts over, as after GC of an idle session."""
    if user_id is None and user is not None and user.is_authenticated:
        user_id = user.pk
    try:
        return _session_create(repository, user_id)
    except IntegrityError:
        if user_id is None:
            raise
        return _session_create(repository, None)


def _session_create(repository: Repository, user_id: int | None) -> UploadSession:
    connection = transaction.get_connection()
    # Only a transaction of its own may skip the WAL flush (never a caller's, holding other writes).
    asynchronous = connection.vendor == "postgresql" and not connection.in_atomic_block
    with transaction.atomic():  # a savepoint inside a caller's transaction
        if asynchronous:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        session_id = statements.session_insert(repository_id=repository.pk, user_id=user_id, now=timezone.now())
    return UploadSession.from_db(
        connection.alias, ["id", "repository_id", "offset", "generation", "created_by_id"], [session_id, repository.pk, 0, 0, user_id],
    )


@contextmanager
def upload_session_claimed(*, repository_name: str, session_id: uuid.UUID) -> Iterator[UploadSession | None]:
    """Upload session `session_id` of repository `repository_name` (None when there is none), for
    the calling request alone to write, append to, commit or cancel until the block ends; read
    after the claim, so its offset is the one the previous writer saved. UploadInUse (416 with the
    session's Range) while another request, on any node, holds it (artifacts.upload_locks)."""
    with upload_writer_lock(session_id) as held:
        session = statements.upload_session(repository_name, session_id)
        if session is not None and not held:
            raise UploadInUse(session)
        yield session


def _checkpoint(session: UploadSession, offset: int) -> None:
    """Save the offset with a new generation (a compare-and-set on the one this request read)."""
    if not statements.session_checkpoint(session_id=session.pk, offset=offset, generation=session.generation, now=timezone.now()):
        raise UploadGone("the upload was cancelled or changed while this request wrote to it")
    session.offset, session.generation = offset, session.generation + 1


def _append(session: UploadSession, chunks: Iterable[bytes], start: int | None, *, save: bool):
    """Write `chunks` at the session's offset while hashing, as its only writer (the caller claimed
    the session; the upload file's own lock is taken too). The offset is saved every
    CHECKPOINT_BYTES, at the end when `save`, and when the body breaks off (kept for a resume).
    Returns (the running sha256 hasher, the writer, still open: close it after committing)."""
    if start is not None and start != session.offset:
        raise RangeMismatch(f"chunk starts at {start}, the upload is at {session.offset}")
    try:
        writer = get_blob_store().writer(session.pk, offset=session.offset)
    except UploadBusy:
        raise UploadInUse(session) from None
    try:
        hasher = _session_hasher(session)
        unsaved = 0
        for chunk in chunks:
            writer.write(chunk)
            hasher.update(chunk)
            unsaved += len(chunk)
            if unsaved >= CHECKPOINT_BYTES:
                writer.flush()
                _checkpoint(session, writer.offset)
                unsaved = 0
        writer.flush()
        if save and writer.offset != session.offset:
            _checkpoint(session, writer.offset)
    except BaseException:
        _save_broken_off(session, writer)
        raise
    if save:
        _remember_hasher(session, hasher)
    return hasher, writer


def _save_broken_off(session: UploadSession, writer) -> None:
    """After the body broke off with an error: save the offset of what reached the file, for a
    resume. The running hash is not kept (it may be a chunk ahead of or behind the file): the
    resuming request re-hashes the prefix. Best effort: the last checkpoint stands otherwise."""
    try:
        writer.close()
        if writer.offset != session.offset:
            _checkpoint(session, writer.offset)
    except Exception:
        log.warning("upload %s: could not save the offset of a broken-off body", session.pk, exc_info=True)


def _remember_hasher(session: UploadSession, hasher) -> None:
    with _hashers_lock:
        _hashers[str(session.pk)] = (session.generation, hasher)


def upload_session_append(*, session: UploadSession, chunks: Iterable[bytes], start: int | None = None) -> UploadSession:
    """Append a chunk at the session's offset (claimed with upload_session_claimed). A chunk that
    does not start there is refused (416); bytes received before a dropped connection are kept,
    so the client can resume."""
    _hasher, writer = _append(session, chunks, start, save=True)
    writer.close()
    return session


def upload_session_finish(
    *, session: UploadSession, chunks: Iterable[bytes] = (), digest: str, start: int | None = None, size: int | None = None
) -> Blob:
    """The last chunk (possibly none) and the commit in one request (PUT ?digest=), on a claimed
    session: the bytes are verified against `digest` (and `size`) and become a blob of the
    session's repository. The offset is not saved in between (perf: one UPDATE and one commit less
    per layer); a body that breaks off still saves what arrived, for a resume. On a mismatch the
    session and its bytes are discarded and nothing is stored."""
    hasher, writer = _append(session, chunks, start, save=False)
    try:
        try:
            _verify(digest=digest, sha256_hasher=lambda: hasher, upload_id=session.pk, length=writer.offset, size=size)
        except BlobError:
            writer.cancel()
            upload_session_cancel(session=session)
            raise
        # The writer (and its file lock) stays open until the file is renamed into the store.
        with transaction.atomic():
            blob = blob_commit_verified(digest=digest, size=writer.offset, upload_id=str(session.pk))
            _link(repository_id=session.repository_id, blob=blob)
            statements.session_delete(session.pk)
    except FileNotFoundError:  # the repository was deleted meanwhile, and its upload files with it
        raise UploadGone("the upload was removed while this request wrote to it") from None
    finally:
        writer.close()
    with _hashers_lock:
        _hashers.pop(str(session.pk), None)
    return blob


def upload_session_commit(*, session: UploadSession, digest: str, size: int | None = None) -> Blob:
    """Verify the bytes received against `digest` (and `size`) and make them a blob (a PUT with no body)."""
    return upload_session_finish(session=session, digest=digest, size=size)


def _verify(*, digest: str, sha256_hasher, upload_id, length: int, size: int | None) -> None:
    """Raise DigestMismatch/SizeMismatch unless the upload's `length` bytes have `digest` (and `size`).
    `sha256_hasher` is called for the running sha256 only when the digest is a sha256 one."""
    try:
        parsed = parse_digest(digest)
    except InvalidDigest as exc:
        raise DigestMismatch(str(exc)) from None
    if parsed.algorithm == DEFAULT_ALGORITHM:
        hasher = sha256_hasher()
    else:
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
    upload_id = str(uuid.uuid4())
    writer = get_blob_store().writer(upload_id)
    try:
        hasher = new_hasher(algorithm)
        for chunk in chunks:
            writer.write(chunk)
            hasher.update(chunk)
        actual = f"{algorithm}:{hasher.hexdigest()}"
        if actual != digest:
            raise DigestMismatch(f"the uploaded content has digest {actual}, not {digest}")
        writer.flush()
        with transaction.atomic():
            blob = blob_commit_verified(digest=digest, size=writer.offset, upload_id=upload_id)
            _link(repository_id=repository.pk, blob=blob)
    except BaseException:
        writer.cancel()
        raise
    writer.close()
    return blob


def _link(*, repository_id: int, blob: Blob) -> None:
    statements.link_insert(repository_id=repository_id, blob_id=blob.pk, now=timezone.now())


def upload_session_cancel(*, session: UploadSession) -> None:
    """Drop a session and its bytes. Callers other than a finishing PUT claim the session first
    (a writer elsewhere keeps its bytes out of the store: its next save finds the session gone)."""
    get_blob_store().delete_upload(session.pk)
    with _hashers_lock:
        _hashers.pop(str(session.pk), None)
    UploadSession.objects.filter(pk=session.pk).delete()


def blob_put_bytes(*, data: bytes, digest: str, media_type: str = "") -> Blob:
    """Store small bytes already in memory (a manifest) under their verified digest."""
    parsed = parse_digest(digest)
    hasher = new_hasher(parsed.algorithm)
    hasher.update(data)
    if f"{parsed.algorithm}:{hasher.hexdigest()}" != digest:
        raise DigestMismatch(f"content does not match {digest}")
    with transaction.atomic():
        return blob_commit_verified(digest=digest, size=len(data), data=data, media_type=media_type)


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


def _upload_has_session(name: str) -> bool:
    try:
        key = uuid.UUID(name)
    except ValueError:
        return False
    return UploadSession.objects.filter(pk=key).exists() or MultipartUpload.objects.filter(pk=key).exists()


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

    stale = now - session_ttl
    for session_id in list(UploadSession.objects.filter(updated_at__lt=stale).values_list("pk", flat=True)):
        with upload_writer_lock(session_id) as held:  # a request writing it now keeps it
            session = UploadSession.objects.filter(pk=session_id, updated_at__lt=stale).first() if held else None
            if session is not None:
                upload_session_cancel(session=session)
                report.sessions_deleted += 1
    report.sessions_deleted += multipart_collect_stale(older_than=now - session_ttl)
    # Upload files whose session row is gone (its repository or version was deleted mid-upload).
    for name in store.stale_uploads(modified_before=(now - session_ttl).timestamp()):
        if not _upload_has_session(name):
            store.delete_upload(name)
            report.sessions_deleted += 1

    referenced = blob_referenced()
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


# --- container repository metadata and removal ------------------------------------------------

MAX_LABELS = 50
MAX_LABEL_LENGTH = 100
# The metadata `ngc registry image create|update` may set (guide 3.5), by model field.
METADATA_FIELDS = ("display_name", "description", "overview", "labels", "logo", "publisher", "built_by")


def _repository_space(repository: Repository) -> Space:
    return Space(repository.org, repository.team)


def _clean_labels(labels) -> list[str]:
    """Labels trimmed (inner whitespace collapsed), empty ones dropped, duplicates removed in order."""
    if not isinstance(labels, (list, tuple)) or not all(isinstance(label, str) for label in labels):
        raise InvalidInput("labels must be a list of strings.", field="labels")
    cleaned: list[str] = []
    for label in labels:
        label = " ".join(label.split())
        if len(label) > MAX_LABEL_LENGTH:
            raise InvalidInput(f"A label may have at most {MAX_LABEL_LENGTH} characters.", field="labels")
        if label and label not in cleaned:
            cleaned.append(label)
    if len(cleaned) > MAX_LABELS:
        raise InvalidInput(f"A repository may have at most {MAX_LABELS} labels.", field="labels")
    return cleaned


def _apply_metadata(repository: Repository, changes: dict) -> list[str]:
    """Set the given metadata fields on the (unsaved) repository; the names of the fields set."""
    for name, value in changes.items():
        if name not in METADATA_FIELDS:
            raise InvalidInput(f"Unknown repository field '{name}'.", field=name)
        if name == "labels":
            value = _clean_labels(value)
        elif not isinstance(value, str):
            raise InvalidInput(f"{name} must be a string.", field=name)
        elif name != "overview":
            value = value.strip()
        setattr(repository, name, value)
    return list(changes)


def _full_clean(repository: Repository, **kwargs) -> None:
    try:
        repository.full_clean(**kwargs)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        label = "" if field == "__all__" else f"{field}: "
        raise InvalidInput(f"{label}{' '.join(messages)}", field=None if field == "__all__" else field) from None


def repository_create(*, actor, space: Space, path: str, is_public: bool = False, **metadata) -> Repository:
    """A repository's metadata record before any push (`POST /v2/{ot}/repos`). Needs WRITE on
    CONTAINER in the space (the creator may then also unlock it); the name must be valid and must
    resolve to that very space (an org repository cannot be named like one of the org's teams);
    409 if it exists."""
    require(actor, Action.WRITE, space, service=Service.CONTAINER)
    name = f"{space.path}/{path}"
    try:
        resolved = resolve_name(name)
    except InvalidName as exc:
        raise InvalidInput(
            f"{exc}: use lower-case letters, digits and single separators (. _ __ -), '/' between components.",
            field="name",
        ) from None
    repository = Repository(
        org=space.org, team=space.team, name=name, path=resolved.path, created_by=actor, is_public=bool(is_public),
    )
    _apply_metadata(repository, metadata)
    _full_clean(repository, exclude=["name"])
    try:
        with transaction.atomic():
            # Under the org row lock team_create takes: no team of that name can appear before the insert.
            target = resolve_name(name, for_update=True).space
            if target is None or target.org.pk != space.org.pk or (target.team.pk if target.team else None) != (space.team.pk if space.team else None):
                raise InvalidInput(f"'{path}' cannot be created in {space.path}: its first component names a team.", field="name")
            if Repository.objects.filter(name=name).exists():
                raise Conflict(f"Repository '{name}' already exists.")
            repository.save()
    except IntegrityError:
        raise Conflict(f"Repository '{name}' already exists.") from None
    return repository


def repository_update(*, actor, repository: Repository, is_public: bool | None = None, **changes) -> Repository:
    """Change metadata (WRITE on CONTAINER). Unlocking or locking it (`is_public`) decides who may
    pull without a key, so it needs what deleting needs: Registry Admin, or the creator with WRITE.
    Every value is checked before anything is saved: a refused update changes nothing."""
    space = _repository_space(repository)
    require(actor, Action.WRITE, space, service=Service.CONTAINER)
    if is_public is not None:
        if not isinstance(is_public, bool):
            raise InvalidInput("isPublic must be true or false.", field="isPublic")
        require(actor, Action.DELETE, space, service=Service.CONTAINER, creator_id=repository.created_by_id)
    with transaction.atomic():
        locked = Repository.objects.select_for_update().get(pk=repository.pk)
        fields = _apply_metadata(locked, changes)
        if is_public is not None:
            locked.is_public = is_public
            fields.append("is_public")
        _full_clean(locked)
        if fields:
            locked.save(update_fields=[*fields, "updated_at"])
    return locked


def repository_set_public(*, actor, repository: Repository, is_public: bool) -> Repository:
    """Unlock (anyone may pull) or lock a repository; see repository_update for who may."""
    return repository_update(actor=actor, repository=repository, is_public=is_public)


def _require_delete(actor, repository: Repository, *creator_ids) -> None:
    """DELETE on CONTAINER: Registry Admin, or WRITE and having created one of the things named."""
    space = _repository_space(repository)
    if not any(can(actor, Action.DELETE, space, service=Service.CONTAINER, creator_id=c) for c in creator_ids if c):
        require(actor, Action.DELETE, space, service=Service.CONTAINER)


def repository_delete(*, actor, repository: Repository) -> None:
    """Delete a whole repository: its tags, manifests and upload sessions (Registry Admin, or its
    creator with WRITE). Blobs are not touched here: the ones no other manifest references go at
    the next garbage collection. The registry answers NAME_UNKNOWN for the name afterwards."""
    _require_delete(actor, repository, repository.created_by_id)
    with transaction.atomic():
        Repository.objects.select_for_update().filter(pk=repository.pk).first()
        session_ids = list(UploadSession.objects.filter(repository=repository).values_list("pk", flat=True))
        # An index PROTECTs its children: drop the links first, then everything cascades.
        ManifestChild.objects.filter(index__repository=repository).delete()
        repository.delete()
        store = get_blob_store()
        for session_id in session_ids:
            transaction.on_commit(lambda session_id=session_id: store.delete_upload(session_id))


def tag_delete(*, actor, repository: Repository, tag: str) -> None:
    """Remove one tag (`ngc registry image remove repo:tag`): Registry Admin, or WRITE and having
    created the repository or pushed the tag's image. The manifest stays, reachable by digest."""
    require(actor, Action.VIEW_SPACE, _repository_space(repository))
    with transaction.atomic():
        row = Tag.objects.select_for_update(of=("self",)).select_related("manifest").filter(repository=repository, name=tag).first()
        if row is None:
            raise NotFound(f"Tag '{tag}' not found in repository '{repository.name}'.")
        _require_delete(actor, repository, repository.created_by_id, row.manifest.created_by_id)
        row.delete()
        Repository.objects.filter(pk=repository.pk).update(updated_at=timezone.now())


def tag_set_latest(*, actor, repository: Repository, tag: str) -> Repository:
    """Pin `tag` as the repository's latest tag (WRITE on CONTAINER)."""
    require(actor, Action.WRITE, _repository_space(repository), service=Service.CONTAINER)
    with transaction.atomic():
        locked = Repository.objects.select_for_update().get(pk=repository.pk)
        row = Tag.objects.filter(repository=locked, name=tag).first()
        if row is None:
            raise NotFound(f"Tag '{tag}' not found in repository '{repository.name}'.")
        locked.latest_tag = row
        locked.save(update_fields=["latest_tag", "updated_at"])
    return locked
