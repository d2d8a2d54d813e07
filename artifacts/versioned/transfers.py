"""Moving file bytes into and out of model and resource versions (reference/ngc-api.md §5.3, §5.4).

Upload, as NVIDIA's client runs it (upload protocol V2):
1. `blobs_readable`: the dedup check answers "exists" only for blobs the caller may already read,
   so knowing a hash never pulls another tenant's file into a version (§7 item 8);
2. `MultipartTransfer.start` (or `.resume`): a session whose file is reserved at full length in
   the blob store's uploads/, and one capability URL per 500,000,000-byte part (at least one);
3. `MultipartTransfer.receive_part`: each part written at its offset (any order, in parallel,
   retried at will), streamed, never held whole;
4. `MultipartTransfer.complete`: every part received, the file hashed once, sha256 and length
   checked, then moved into the content-addressed store (or dropped for an identical blob);
5. `files_commit`: verified blobs linked into the version at their paths;
6. `version_request_completion` → `version_finalize` (through the outbox: in the request when every
   blob was verified at step 4, else on a Celery worker): every file checked against storage,
   totals, UPLOAD_COMPLETE and the artifact's latest version.
Nothing half-uploaded is visible: downloads need UPLOAD_COMPLETE, which only step 6 sets.

Download: `file_url_path` signs an expiring capability URL per file and user; `file_for_download`
checks it (and that the user may still read the version); `version_zip_stream` streams a whole
version as a zip64 archive in small pieces.
"""
import base64
import binascii
import hashlib
import logging
import mmap
import os
import re
import time
import zipfile
from collections.abc import Iterable, Iterator
from datetime import timedelta, timezone as dt_timezone
from urllib.parse import urlencode

from django.db import transaction
from django.db.models import Count, Max, Q, Sum
from django.urls import reverse
from django.utils import timezone

from accounts import tokens
from registry_portal.errors import AccessDenied, Conflict, InvalidInput, NotFound, RegistryError
from accounts.models import User
from accounts.permissions import Action, Space, can, require, teams_with, visible_orgs
from artifacts.blobs import blob_commit_verified, blob_stored_problem
from artifacts.models import Blob
from artifacts.storage import UploadBusy, get_blob_store
from artifacts.versioned.models import ArtifactFile, ArtifactVersion, VersionedArtifact, VersionStatus
from artifacts.versioned.paths import InvalidPath, validate_relative_path
from artifacts.versioned.services import SERVICE_OF_KIND, artifact_space, pick_latest
from artifacts.versioned.transfer_models import MultipartState, MultipartUpload
from registry_portal.outbox.services import outbox_enqueue

log = logging.getLogger(__name__)

PART_SIZE = 500_000_000  # NVIDIA's client cuts files into parts of exactly this many bytes
MIN_PART_SIZE, MAX_PART_SIZE = 1024, 5 * 1024**3  # for clients that ask for another size (`partSize`)
MAX_PARTS = 10_000  # as S3
MAX_FILE_SIZE = PART_SIZE * MAX_PARTS  # 5 TB
MAX_HASHES_PER_CHECK = 1000
MAX_FILES_PER_COMMIT = 10_000  # the client sends 4000 per commit
URL_TTL = timedelta(hours=24)
IO_BUFFER = 1024 * 1024  # per receiving/hashing request: 16 threads x 1 MiB at most
ZIP_PIECE = 1024 * 1024
AWAIT_POLL_SECONDS = 0.2


class UploadAlreadyCompleted(RegistryError):
    """Complete on a completed upload: 400, which NVIDIA's client reads as "already completed"."""

    status_code = 400
    status = "ALREADY_COMPLETED"


class IntegrityFailure(RegistryError):
    """The bytes are not what was declared: 409, after which NVIDIA's client deletes the version."""

    status_code = 409
    status = "INTEGRITY_ERROR"


class NotReady(RegistryError):
    """A version whose upload is not complete has nothing to download yet."""

    status_code = 409
    status = "UPLOAD_NOT_COMPLETE"


class TryAgain(RegistryError):
    """Parts are still being written; the client retries."""

    status_code = 503
    status = "TRY_AGAIN"


# --- input grammar ------------------------------------------------------------------------------


def sha256_hex(value, *, field: str = "sha256") -> str:
    """The lowercase hex of a SHA-256 given in standard base64 (as NVIDIA's client sends it) or hex."""
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"[0-9a-fA-F]{64}", text):
            return text.lower()
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) == 32:
            return raw.hex()
    raise InvalidInput(f"{field} must be a SHA-256 digest in standard base64 (44 characters) or hex.", field=field)


def sha256_base64(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


def clean_path(path, *, field: str = "filePath") -> str:
    try:
        return validate_relative_path(path)
    except InvalidPath as exc:
        raise InvalidInput(str(exc), field=field) from None


def artifact_service(artifact: VersionedArtifact) -> str:
    return SERVICE_OF_KIND[artifact.kind]


def _require(actor, action: Action, version: ArtifactVersion) -> None:
    artifact = version.artifact
    require(actor, action, artifact_space(artifact), service=artifact_service(artifact))


def _require_upload(actor, version: ArtifactVersion) -> None:
    """Uploads need WRITE on the artifact's service, into a version that is not complete yet."""
    _require(actor, Action.WRITE, version)
    if version.status == VersionStatus.UPLOAD_COMPLETE:
        raise Conflict(f"Version '{version.version}' is already UPLOAD_COMPLETE; upload into a new version.")


def _user_id(actor) -> int | None:
    return actor.pk if actor is not None and actor.is_authenticated else None


# --- what the caller may read (the dedup check's scope) --------------------------------------


def readable_artifacts(user):
    """Models and resources whose files `user` may read: READ on the kind's service in their space."""
    condition = Q(pk__in=[])
    for org in visible_orgs(user):
        for kind, service in SERVICE_OF_KIND.items():
            if can(user, Action.READ, Space(org), service=service):
                condition |= Q(kind=kind, org=org, team__isnull=True)
            condition |= Q(kind=kind, team__in=teams_with(user, org, Action.READ, service=service))
    return VersionedArtifact.objects.filter(condition)


def blobs_readable(*, user, hex_digests: Iterable[str]) -> set[str]:
    """Which of these sha256 (hex) name bytes `user` may already read: files of artifacts they may
    read, or uploads completed into versions of such artifacts; verified and present in storage."""
    digests = {f"sha256:{value}" for value in hex_digests}
    if not digests:
        return set()
    artifacts = readable_artifacts(user)
    # Only bytes hashed to their digest in storage: a blob nothing verified is uploaded again (and replaced).
    verified = {"blob__digest__in": digests, "blob__verified_at__isnull": False}
    found = set(
        ArtifactFile.objects.filter(version__artifact__in=artifacts, **verified).values_list("blob__digest", flat=True)
    )
    found |= set(
        MultipartUpload.objects.filter(
            state=MultipartState.COMPLETE, version__artifact__in=artifacts, **verified
        ).values_list("blob__digest", flat=True)
    )
    store = get_blob_store()
    return {digest.split(":", 1)[1] for digest in found if store.exists(digest)}


def files_exist(*, actor, artifact: VersionedArtifact, hashes: list) -> list[dict]:
    """The dedup check (`POST /v2/{ot}/{kind}/{name}/files`): WRITE on the artifact's service;
    `exists` is true only for bytes the caller may already read (see `blobs_readable`)."""
    require(actor, Action.WRITE, artifact_space(artifact), service=artifact_service(artifact))
    if len(hashes) > MAX_HASHES_PER_CHECK:
        raise InvalidInput(f"At most {MAX_HASHES_PER_CHECK} hashes per request.", field="files")
    parsed = [(value, sha256_hex(value, field="files.sha256")) for value in hashes]
    readable = blobs_readable(user=actor, hex_digests={hex_digest for _, hex_digest in parsed})
    return [{"sha256": value, "exists": hex_digest in readable} for value, hex_digest in parsed]


# --- capability URLs ----------------------------------------------------------------------------


def _expiry() -> int:
    return int(time.time() + URL_TTL.total_seconds())


def part_url_path(upload: MultipartUpload, number: int) -> str:
    """The path and query of the capability URL for one part: PUT without Authorization."""
    expires = _expiry()
    signature = tokens.capability_signature(purpose="upload-part", subject=f"{upload.pk}:{number}", expires_at=expires)
    path = reverse("transfer-upload-part", kwargs={"upload_id": upload.pk, "number": number})
    return f"{path}?{urlencode({'expires': expires, 'sig': signature})}"


def part_capability_valid(*, upload_id, number: int, expires, signature) -> bool:
    try:
        expires_at = int(expires)
    except (TypeError, ValueError):
        return False
    return tokens.capability_valid(
        signature, purpose="upload-part", subject=f"{upload_id}:{number}", expires_at=expires_at
    )


def file_url_path(file: ArtifactFile, user) -> str:
    """The path and query of a file's download URL for `user`: GET without Authorization, with Range."""
    expires = _expiry()
    subject = f"{file.pk}:{user.pk}"
    signature = tokens.capability_signature(purpose="download-file", subject=subject, expires_at=expires)
    path = reverse("transfer-download-file", kwargs={"file_id": file.pk})
    return f"{path}?{urlencode({'user': user.pk, 'expires': expires, 'sig': signature})}"


def file_for_download(*, file_id: int, user_id, expires, signature) -> ArtifactFile:
    """The file a download URL names, if the URL is genuine and unexpired, its user may still read
    the artifact and the version is UPLOAD_COMPLETE."""
    try:
        subject, expires_at = f"{int(file_id)}:{int(user_id)}", int(expires)
    except (TypeError, ValueError):
        raise AccessDenied("This download link is malformed.") from None
    if not tokens.capability_valid(signature, purpose="download-file", subject=subject, expires_at=expires_at):
        raise AccessDenied("This download link is invalid or has expired; list the version's files again.")
    file = (
        ArtifactFile.objects.select_related("version__artifact__org", "version__artifact__team", "blob")
        .filter(pk=file_id)
        .first()
    )
    if file is None:
        raise NotFound("This file no longer exists.")
    user = User.objects.filter(pk=user_id, is_active=True).first()
    artifact = file.version.artifact
    if user is None or not can(user, Action.READ, artifact_space(artifact), service=artifact_service(artifact)):
        raise AccessDenied("The user this link was issued to may no longer read this file.")
    require_downloadable(file.version)
    return file


def require_downloadable(version: ArtifactVersion) -> None:
    if version.status != VersionStatus.UPLOAD_COMPLETE:
        raise NotReady(
            f"Version '{version.version}' is {version.status}; its files can be downloaded once its upload is complete."
        )


def version_for_download(*, user, version: ArtifactVersion) -> ArtifactVersion:
    """READ on the artifact's service, and the version UPLOAD_COMPLETE."""
    _require(user, Action.READ, version)
    require_downloadable(version)
    return version


# --- multipart upload session -------------------------------------------------------------------


def _upload_in(version: ArtifactVersion, upload_id) -> MultipartUpload:
    upload = MultipartUpload.objects.filter(pk=upload_id, version=version).first() if _is_uuid(upload_id) else None
    if upload is None:
        raise NotFound(f"Upload '{upload_id}' is not known for version '{version.version}'; start the file's upload again.")
    return upload


def _is_uuid(value) -> bool:
    import uuid

    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


class MultipartTransfer:
    """One file's multipart upload: start (or resume), receive_part, complete, abort."""

    @staticmethod
    def start(
        *, actor, version: ArtifactVersion, path: str, size, sha256=None, part_size: int | None = None
    ) -> MultipartUpload:
        """Rules: WRITE on the artifact's service; the version is not complete; the path is a safe
        relative path; 0 <= size <= MAX_FILE_SIZE. Parts are PART_SIZE bytes (what NVIDIA's client
        cuts) unless the client asks for another size (our browser page and tests do), with at most
        MAX_PARTS parts. The file is reserved at full length; no bytes are written yet."""
        _require_upload(actor, version)
        path = clean_path(path)
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise InvalidInput("size must be the file's length in bytes, a whole number >= 0.", field="size")
        if size > MAX_FILE_SIZE:
            raise InvalidInput(f"Files are limited to {MAX_FILE_SIZE} bytes.", field="size")
        part_size = PART_SIZE if part_size is None else part_size
        if not MIN_PART_SIZE <= part_size <= MAX_PART_SIZE:
            raise InvalidInput(f"partSize must be from {MIN_PART_SIZE} to {MAX_PART_SIZE} bytes.", field="partSize")
        if size > part_size * MAX_PARTS:
            raise InvalidInput(f"A file may have at most {MAX_PARTS} parts; use a larger partSize.", field="partSize")
        declared = sha256_hex(sha256) if sha256 not in (None, "") else ""
        with transaction.atomic():
            upload = MultipartUpload.objects.create(
                version=version, path=path, size=size, sha256=declared, part_size=part_size, created_by_id=_user_id(actor)
            )
            get_blob_store().reserve_upload(upload.pk, size)
        return upload

    @staticmethod
    def resume(*, actor, version: ArtifactVersion, upload_id, path: str, part_numbers=None) -> tuple[MultipartUpload, list[int]]:
        """An open upload of this version and path, and the parts to (re)send: `part_numbers`
        (1-based, as the client lists the parts it has not finished) or all of them."""
        _require_upload(actor, version)
        upload = _upload_in(version, upload_id)
        if clean_path(path) != upload.path:
            raise InvalidInput(f"Upload '{upload_id}' is for '{upload.path}', not '{path}'.", field="filePath")
        if upload.state != MultipartState.OPEN:
            raise Conflict(f"Upload '{upload_id}' is already completed.")
        if not part_numbers:
            return upload, list(range(1, upload.part_count + 1))
        if not isinstance(part_numbers, list) or not all(
            isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= upload.part_count for n in part_numbers
        ):
            raise InvalidInput(f"partNumberList must hold part numbers from 1 to {upload.part_count}.", field="partNumberList")
        if len(set(part_numbers)) != len(part_numbers):
            raise InvalidInput("partNumberList names a part twice.", field="partNumberList")
        return upload, part_numbers

    @staticmethod
    def receive_part(*, upload_id, number: int, body, length: int | None) -> MultipartUpload:
        """Write part `number` at its offset. The caller proved the capability URL; the body (an
        object with `readinto(view) -> int`, 0 at its end) must be exactly the part's length. A part
        cut short is not recorded (send it again); a retried part simply overwrites the same range.

        Bytes go through one reused IO_BUFFER-sized anonymous mapping (returned to the OS at the
        end, so memory per request stays bounded and does not pile up in malloc arenas) and are
        written with one pwrite per full buffer. A file of one part is hashed as it arrives, under
        the upload's exclusive lock, and its sha256 kept (`streamed_sha256`) so complete needn't
        re-read it; it is cleared before a re-send writes anything. Other parts: complete re-hashes."""
        upload = MultipartUpload.objects.filter(pk=upload_id).first()
        if upload is None:
            raise NotFound("This upload is gone (completed, aborted or expired).")
        if upload.state != MultipartState.OPEN:
            raise Conflict("This upload is already completed.")
        if not 1 <= number <= upload.part_count:
            raise InvalidInput(f"This upload has parts 1 to {upload.part_count}.")
        offset, expected = upload.part_range(number)
        if length is not None and length != expected:
            raise InvalidInput(f"Part {number} of this upload is {expected} bytes; the request has {length}.")
        whole_file = upload.part_count == 1  # part 1 from offset 0 to the end: hash it while it arrives
        hasher = hashlib.sha256() if whole_file else None
        received = 0
        buffer = mmap.mmap(-1, IO_BUFFER)
        view = memoryview(buffer)
        try:
            with get_blob_store().upload_part(upload.pk, offset, exclusive=whole_file) as writer:
                # The file may have become a blob while this request waited for the lock.
                still_open = MultipartUpload.objects.filter(pk=upload.pk, state=MultipartState.OPEN)
                if not (still_open.update(streamed_sha256="") if whole_file else still_open.exists()):
                    raise Conflict("This upload is already completed.")
                while True:
                    filled = 0
                    while filled < IO_BUFFER:
                        with view[filled:] as rest:
                            n = body.readinto(rest)
                        if not n:
                            break
                        filled += n
                    if not filled:
                        break
                    if received + filled > expected:
                        raise InvalidInput(f"Part {number} of this upload is {expected} bytes; more arrived.")
                    with view[:filled] as chunk:
                        writer.write(chunk)
                        if hasher is not None:
                            hasher.update(chunk)
                    received += filled
                    if filled < IO_BUFFER:
                        break
                if received != expected:
                    raise InvalidInput(f"Part {number}: {received} of {expected} bytes arrived; send the part again.")
                # Recorded under the part's lock, so a completing request sees it written and recorded.
                with transaction.atomic():
                    locked = MultipartUpload.objects.select_for_update().filter(pk=upload.pk).first()
                    if locked is None:
                        raise NotFound("This upload is gone (completed, aborted or expired).")
                    fields = ["received_parts", "updated_at"]
                    if number not in locked.received_parts:
                        locked.received_parts = sorted([*locked.received_parts, number])
                    if hasher is not None:
                        locked.streamed_sha256 = hasher.hexdigest()
                        fields.append("streamed_sha256")
                    locked.save(update_fields=fields)
        except FileNotFoundError:
            raise NotFound("This upload is gone (completed, aborted or expired).") from None
        finally:
            _unmap(view, buffer)
        return locked

    @staticmethod
    def complete(*, actor, version: ArtifactVersion, upload_id, path: str, sha256) -> MultipartUpload:
        """Rules: every part received; the stored bytes have the declared sha256 and length. A
        mismatch discards the upload's bytes and answers 409 (nothing is stored); completing a
        completed upload with the same sha256 answers 400, which the client reads as done."""
        _require(actor, Action.WRITE, version)
        upload = _upload_in(version, upload_id)
        try:
            expected = sha256_hex(sha256)
        except InvalidInput as exc:
            raise IntegrityFailure(exc.message, field="sha256") from None
        if path != upload.path:
            raise IntegrityFailure(f"Upload '{upload_id}' is for '{upload.path}', not '{path}'.", field="filePath")
        if upload.state == MultipartState.COMPLETE:
            return _already_completed(upload, expected)
        if version.status == VersionStatus.UPLOAD_COMPLETE:
            raise Conflict(f"Version '{version.version}' is already UPLOAD_COMPLETE.")
        if upload.sha256 and upload.sha256 != expected:
            _discard(upload)
            raise IntegrityFailure(
                f"'{path}' was started with sha256 {sha256_base64(upload.sha256)}, completed with {sha256}; nothing was stored."
            )
        missing = upload.missing_parts
        if missing:
            shown = ", ".join(str(n) for n in missing[:10]) + (" …" if len(missing) > 10 else "")
            raise IntegrityFailure(f"Parts {shown} of '{path}' have not been received.")
        store = get_blob_store()
        try:
            with store.sealed_upload(upload.pk) as handle:
                upload = MultipartUpload.objects.filter(pk=upload.pk).first()
                if upload is None:
                    raise NotFound(f"Upload '{upload_id}' was aborted.")
                if upload.state == MultipartState.COMPLETE:
                    return _already_completed(upload, expected)
                if upload.streamed_sha256 and upload.part_count == 1:
                    # Hashed while its one part arrived, under the exclusive lock; nothing wrote since.
                    actual, length = upload.streamed_sha256, os.fstat(handle.fileno()).st_size
                else:
                    actual, length = _hash_stream(handle)
                if actual != expected or length != upload.size:
                    _discard(upload)
                    raise IntegrityFailure(
                        f"'{path}' arrived as {length} bytes with sha256 {sha256_base64(actual)}, "
                        f"not {upload.size} bytes with {sha256_base64(expected)}; nothing was stored."
                    )
                digest = f"sha256:{actual}"
                with transaction.atomic():
                    # Still under the seal: these hashed bytes become the blob, or a verified copy stays.
                    blob = blob_commit_verified(digest=digest, size=length, upload_id=str(upload.pk))
                    upload.state, upload.blob, upload.sha256 = MultipartState.COMPLETE, blob, actual
                    upload.save(update_fields=["state", "blob", "sha256", "updated_at"])
        except FileNotFoundError:
            upload = MultipartUpload.objects.filter(pk=upload_id).first()
            if upload is not None and upload.state == MultipartState.COMPLETE:
                return _already_completed(upload, expected)
            raise NotFound(f"Upload '{upload_id}' is gone; start the file's upload again.") from None
        except UploadBusy as exc:
            raise TryAgain(str(exc)) from None
        return upload

    @staticmethod
    def abort(*, actor, version: ArtifactVersion, upload_id) -> None:
        """Drop an upload and the bytes received (`DELETE /v2/{ot}/files/multipart`)."""
        _require(actor, Action.WRITE, version)
        _discard(_upload_in(version, upload_id))


def _already_completed(upload: MultipartUpload, expected_hex: str):
    if upload.sha256 != expected_hex:
        raise IntegrityFailure(f"'{upload.path}' was completed with a different sha256.")
    raise UploadAlreadyCompleted(f"Upload '{upload.pk}' of '{upload.path}' is already completed.")


def _discard(upload: MultipartUpload) -> None:
    upload_id, state = upload.pk, upload.state
    upload.delete()
    if state == MultipartState.OPEN:
        get_blob_store().delete_upload(upload_id)


def multipart_collect_stale(*, older_than) -> int:
    """Remove uploads idle since `older_than` (garbage collection): open ones with their bytes,
    completed ones never committed (their blob goes at a later collection if nothing links it)."""
    removed = 0
    for upload in MultipartUpload.objects.filter(updated_at__lt=older_than):
        _discard(upload)
        removed += 1
    return removed


# --- commit -------------------------------------------------------------------------------------


def files_commit(*, actor, version: ArtifactVersion, files: list, base_version: str | None = None) -> int:
    """Link verified bytes into a version at their paths (`POST /v2/{ot}/files/commit`); the number
    of files added.

    Rules: WRITE; the version is not UPLOAD_COMPLETE; each path is a safe relative path, listed
    once, and neither a file and a directory of another file; each sha256 names bytes the caller
    may already read (completed by an upload of theirs, or a file of an artifact they may read), so
    a known hash alone never pulls another tenant's file in; a path already in the version keeps
    its content (the same sha256 again is a no-op, another one is refused). `baseVersion` adds the
    files of that complete version of the same artifact at the paths not taken. All or nothing.
    """
    _require_upload(actor, version)
    if not isinstance(files, list):
        raise InvalidInput("files must be a list.", field="files")
    if len(files) > MAX_FILES_PER_COMMIT:
        raise InvalidInput(f"At most {MAX_FILES_PER_COMMIT} files per commit.", field="files")
    entries: dict[str, str] = {}
    for item in files:
        if not isinstance(item, dict):
            raise InvalidInput("Each file must be an object with commitType, filePath and sha256.", field="files")
        commit_type = item.get("commitType", "ADDITION")
        if commit_type != "ADDITION":
            raise InvalidInput(f"commitType {commit_type!r} is not supported; use ADDITION.", field="commitType")
        path = clean_path(item.get("filePath"))
        if path in entries:
            raise InvalidInput(f"'{path}' is listed twice.", field="filePath")
        entries[path] = sha256_hex(item.get("sha256"))
    readable = blobs_readable(user=actor, hex_digests=set(entries.values()))
    unknown = [path for path, hex_digest in entries.items() if hex_digest not in readable]
    if unknown:
        raise InvalidInput(
            f"No completed upload has the sha256 given for {', '.join(repr(p) for p in unknown[:5])}; upload it first.",
            field="sha256",
        )
    blobs = {blob.digest.split(":", 1)[1]: blob for blob in Blob.objects.filter(digest__in=[f"sha256:{h}" for h in entries.values()])}
    with transaction.atomic():
        locked = ArtifactVersion.objects.select_for_update().get(pk=version.pk)
        if locked.status == VersionStatus.UPLOAD_COMPLETE:
            raise Conflict(f"Version '{locked.version}' is already UPLOAD_COMPLETE.")
        existing = dict(ArtifactFile.objects.filter(version=locked).values_list("path", "sha256"))
        clashes = [path for path, hex_digest in entries.items() if existing.get(path, hex_digest) != hex_digest]
        if clashes:
            raise Conflict(f"The version already has different content at {', '.join(repr(p) for p in clashes[:5])}.")
        new = [
            ArtifactFile(version=locked, path=path, size_bytes=blobs[h].size, sha256=h, blob=blobs[h])
            for path, h in entries.items() if path not in existing
        ]
        if base_version:
            new += _base_files(locked, base_version, taken=set(existing) | set(entries))
        _refuse_file_directory_clashes(set(existing) | {file.path for file in new})
        ArtifactFile.objects.bulk_create(new)
        Blob.objects.filter(pk__in={file.blob_id for file in new}).update(last_linked_at=timezone.now())
    return len(new)


def _base_files(version: ArtifactVersion, base_version: str, *, taken: set[str]) -> list[ArtifactFile]:
    base = ArtifactVersion.objects.filter(artifact_id=version.artifact_id, version=base_version).first()
    if base is None:
        raise NotFound(f"Base version '{base_version}' not found.")
    if base.status != VersionStatus.UPLOAD_COMPLETE:
        raise Conflict(f"Base version '{base_version}' is {base.status}, not UPLOAD_COMPLETE.")
    return [
        ArtifactFile(version=version, path=file.path, size_bytes=file.size_bytes, sha256=file.sha256, blob_id=file.blob_id)
        for file in base.files.all()
        if file.path not in taken
    ]


def _refuse_file_directory_clashes(paths: set[str]) -> None:
    directories = {path.rsplit("/", depth)[0] for path in paths for depth in range(1, path.count("/") + 1)}
    clashes = sorted(paths & directories)
    if clashes:
        raise Conflict(f"'{clashes[0]}' would be both a file and a directory of the version.")


# --- completion and finalisation ----------------------------------------------------------------


def version_request_completion(*, version: ArtifactVersion, actor) -> ArtifactVersion:
    """Ask for a version to be completed (`PATCH …/versions/{v}` `{"status": "UPLOAD_COMPLETE"}`);
    the version as it stands afterwards.

    Rule: WRITE. A complete version stays as it is. Any other goes (back) to UPLOAD_PENDING with no
    failure reason, and its finalisation is owed in the same transaction (an outbox row), so it
    cannot be lost. When every file's blob was verified at upload (`Blob.verified_at`: the normal
    path, hashed by the multipart complete) finalisation only checks existence and sizes, and runs
    here right after the commit: the caller reads UPLOAD_COMPLETE (or UPLOAD_FAILED) at once.
    Otherwise a worker re-hashes the unverified blobs; `version_await_final` waits for it."""
    from artifacts import tasks  # tasks wrap this module

    _require(actor, Action.WRITE, version)
    with transaction.atomic():
        locked = ArtifactVersion.objects.select_for_update().get(pk=version.pk)
        if locked.status == VersionStatus.UPLOAD_COMPLETE:
            return locked
        locked.status, locked.failure_reason = VersionStatus.UPLOAD_PENDING, ""
        locked.save(update_fields=["status", "failure_reason", "updated_at"])
        cheap = not ArtifactFile.objects.filter(version_id=locked.pk, blob__verified_at__isnull=True).exists()
        outbox_enqueue(tasks.finalize_version, locked.pk, inline=cheap)
    return ArtifactVersion.objects.filter(pk=locked.pk).first() or locked


def version_await_final(version: ArtifactVersion, *, timeout: float) -> ArtifactVersion:
    """The version once it has left UPLOAD_PENDING, or as it is after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while version.status == VersionStatus.UPLOAD_PENDING and time.monotonic() < deadline:
        time.sleep(min(AWAIT_POLL_SECONDS, max(0.0, deadline - time.monotonic())))
        version = ArtifactVersion.objects.filter(pk=version.pk).first() or version
    return version


def _files_fingerprint(version_id: int) -> tuple:
    row = ArtifactFile.objects.filter(version_id=version_id).aggregate(
        count=Count("id"), last=Max("id"), ids=Sum("id"), size=Sum("size_bytes")
    )
    return row["count"], row["last"], row["ids"], row["size"]


def _verify_files(version_id: int) -> str | None:
    """The first problem with the version's files in storage, or None when every file's blob is
    there with the recorded size, and — for blobs nothing has verified yet (`Blob.verified_at`
    empty) — the recorded sha256 (each such blob re-hashed once, then marked verified). Blobs a
    multipart complete hashed before moving them into the store, or an earlier finalisation
    re-hashed, are trusted: existence and size only (the store never rewrites a blob in place)."""
    store = get_blob_store()
    checked: dict[str, str | None] = {}
    rows = (
        ArtifactFile.objects.filter(version_id=version_id)
        .order_by("path")
        .values_list("path", "size_bytes", "sha256", "blob__digest", "blob__size", "blob__verified_at")
    )
    for path, size, sha256, digest, blob_size, verified_at in rows.iterator():
        if digest != f"sha256:{sha256}" or blob_size != size:
            return f"File '{path}' does not match its blob record."
        if digest not in checked:
            checked[digest] = _verify_blob(store, digest, size, rehash=verified_at is None)
        if checked[digest]:
            return f"File '{path}' {checked[digest]}."
    return None


def _hash_stream(handle) -> tuple[str, int]:
    """(sha256 hex, length) of what `handle` reads, through one reused IO_BUFFER-sized mapping."""
    hasher, length = hashlib.sha256(), 0
    buffer = mmap.mmap(-1, IO_BUFFER)
    view = memoryview(buffer)
    try:
        while n := handle.readinto(view):
            with view[:n] as chunk:
                hasher.update(chunk)
            length += n
    finally:
        _unmap(view, buffer)
    return hasher.hexdigest(), length


def _unmap(view: memoryview, buffer: mmap.mmap) -> None:
    """Release a request's buffer now; if a traceback still holds a slice of it, when that goes."""
    view.release()
    try:
        buffer.close()
    except BufferError:
        pass


def _verify_blob(store, digest: str, size: int, *, rehash: bool = True) -> str | None:
    problem = blob_stored_problem(digest, size, store=store, rehash=rehash)
    if problem is None and rehash:
        Blob.objects.filter(digest=digest, verified_at__isnull=True).update(verified_at=timezone.now())
    return problem


def version_finalize(version_id: int) -> ArtifactVersion | None:
    """Finalise a version (the `finalize_version` task's work; idempotent). Rules: it becomes
    UPLOAD_COMPLETE only when every file's blob is in storage with the recorded size and sha256
    (re-hashed here when nothing verified it yet); its totals are recorded and the artifact's latest version becomes the highest complete
    one (SemVer precedence when every complete version is SemVer-like, else the newest). Any problem
    → UPLOAD_FAILED with the reason. Files committed during verification are verified again."""
    for _attempt in range(3):
        version = ArtifactVersion.objects.filter(pk=version_id).first()
        if version is None or version.status == VersionStatus.UPLOAD_COMPLETE:
            return version
        before = _files_fingerprint(version_id)
        problem = _verify_files(version_id)
        with transaction.atomic():
            # The lock order (docs/model-transfers.md): the artifact row, then the version row.
            artifact = VersionedArtifact.objects.select_for_update().filter(pk=version.artifact_id).order_by("pk").first()
            locked = ArtifactVersion.objects.select_for_update().filter(pk=version_id).order_by("pk").first()
            if artifact is None or locked is None or locked.status == VersionStatus.UPLOAD_COMPLETE:
                return locked
            if _files_fingerprint(version_id) != before:
                continue
            if problem:
                locked.status, locked.failure_reason = VersionStatus.UPLOAD_FAILED, problem
                locked.save(update_fields=["status", "failure_reason", "updated_at"])
                log.warning("version %s failed verification: %s", locked, problem)
                return locked
            count, total = before[0], before[3] or 0
            locked.status, locked.failure_reason = VersionStatus.UPLOAD_COMPLETE, ""
            locked.total_file_count, locked.total_size_bytes = count, total
            locked.save(update_fields=["status", "failure_reason", "total_file_count", "total_size_bytes", "updated_at"])
            _repoint_latest(artifact)
            _drop_sessions(locked)
            return locked
    with transaction.atomic():
        locked = ArtifactVersion.objects.select_for_update().filter(pk=version_id).first()
        if locked is not None and locked.status != VersionStatus.UPLOAD_COMPLETE:
            locked.status = VersionStatus.UPLOAD_FAILED
            locked.failure_reason = "Files kept changing during verification; request completion again."
            locked.save(update_fields=["status", "failure_reason", "updated_at"])
    return locked


def _drop_sessions(version: ArtifactVersion) -> None:
    """A complete version needs no upload sessions: drop them, and the bytes of unfinished ones."""
    open_ids = list(version.multipart_uploads.filter(state=MultipartState.OPEN).values_list("pk", flat=True))
    version.multipart_uploads.all().delete()
    store = get_blob_store()
    for upload_id in open_ids:
        transaction.on_commit(lambda upload_id=upload_id: store.delete_upload(upload_id))


def _repoint_latest(artifact: VersionedArtifact) -> None:
    """Point the artifact (locked by the caller) at its highest complete version."""
    latest = pick_latest(list(ArtifactVersion.objects.filter(artifact_id=artifact.pk, status=VersionStatus.UPLOAD_COMPLETE)))
    latest_id = latest.pk if latest else None
    if artifact.latest_version_id != latest_id:
        artifact.latest_version_id = latest_id
        artifact.save(update_fields=["latest_version", "updated_at"])


# --- downloads ----------------------------------------------------------------------------------


def version_files(version: ArtifactVersion):
    return ArtifactFile.objects.filter(version=version).select_related("blob").order_by("path")


class _ZipSink:
    """A write-only, unseekable stream collecting what zipfile writes, drained by the generator."""

    def __init__(self):
        self._pieces: list[bytes] = []
        self._written = 0
        self.pending = 0

    def write(self, data) -> int:
        data = bytes(data)
        self._pieces.append(data)
        self._written += len(data)
        self.pending += len(data)
        return len(data)

    def tell(self) -> int:
        return self._written

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        data = b"".join(self._pieces)
        self._pieces.clear()
        self.pending = 0
        return data


def version_zip_stream(version: ArtifactVersion) -> Iterator[bytes]:
    """The version's files as one zip64 archive (stored, not compressed), paths as directories,
    yielded in pieces of about ZIP_PIECE bytes: never a whole file, let alone the version, in memory."""
    store = get_blob_store()
    sink = _ZipSink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for file in version_files(version).iterator():
            stamp = file.created_at.astimezone(dt_timezone.utc)
            info = zipfile.ZipInfo(file.path, date_time=stamp.timetuple()[:6])
            info.compress_type = zipfile.ZIP_STORED
            info.file_size = file.size_bytes
            info.external_attr = 0o644 << 16
            with archive.open(info, "w", force_zip64=file.size_bytes > zipfile.ZIP64_LIMIT // 2) as entry:
                with store.open(file.blob.digest) as handle:
                    while chunk := handle.read(ZIP_PIECE):
                        entry.write(chunk)
                        if sink.pending >= ZIP_PIECE:
                            yield sink.drain()
            if sink.pending:
                yield sink.drain()
    if sink.pending:
        yield sink.drain()
