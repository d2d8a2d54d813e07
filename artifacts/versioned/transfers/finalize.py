"""Completion and finalisation: a version becomes UPLOAD_COMPLETE only once every file is verified
in storage (through the outbox, inline or on a worker), and the artifact's latest version follows."""
import logging
import time

from django.db import transaction
from django.db.models import Count, Max, Sum

from accounts.permissions import Action
from artifacts.blobs.verify import blob_check_stored
from artifacts.blobs.store import get_blob_store
from artifacts.versioned.models import ArtifactFile, ArtifactVersion, VersionedArtifact, VersionStatus
from artifacts.versioned.services import pick_latest
from artifacts.versioned.transfer_models import MultipartState
from artifacts.versioned.transfers.rules import Actor, require_on_version
from registry_portal.outbox.services import outbox_enqueue

log = logging.getLogger(__name__)

AWAIT_POLL_SECONDS = 0.2
FINALIZE_TASK = "artifacts.tasks.finalize_version"  # the Celery task wrapping version_finalize


def version_request_completion(*, version: ArtifactVersion, actor: Actor) -> ArtifactVersion:
    """Ask for a version to be completed (`PATCH …/versions/{v}` `{"status": "UPLOAD_COMPLETE"}`);
    the version as it stands afterwards.

    Rule: WRITE. A complete version stays as it is. Any other goes (back) to UPLOAD_PENDING with no
    failure reason, and its finalisation is owed in the same transaction (an outbox row), so it
    cannot be lost. When every file's blob was verified at upload (`Blob.verified_at`: the normal
    path, hashed by the multipart complete) finalisation only checks existence and sizes, and runs
    here right after the commit: the caller reads UPLOAD_COMPLETE (or UPLOAD_FAILED) at once.
    Otherwise a worker re-hashes the unverified blobs; `version_await_final` waits for it."""
    require_on_version(actor, Action.WRITE, version)
    with transaction.atomic():
        locked = ArtifactVersion.objects.select_for_update().get(pk=version.pk)
        if locked.status == VersionStatus.UPLOAD_COMPLETE:
            return locked
        locked.status, locked.failure_reason = VersionStatus.UPLOAD_PENDING, ""
        locked.save(update_fields=["status", "failure_reason", "updated_at"])
        cheap = not ArtifactFile.objects.filter(version_id=locked.pk, blob__verified_at__isnull=True).exists()
        outbox_enqueue(FINALIZE_TASK, locked.pk, inline=cheap)
    return ArtifactVersion.objects.filter(pk=locked.pk).first() or locked


def version_await_final(version: ArtifactVersion, *, timeout: float) -> ArtifactVersion:
    """The version once it has left UPLOAD_PENDING, or as it is after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while version.status == VersionStatus.UPLOAD_PENDING and time.monotonic() < deadline:
        time.sleep(min(AWAIT_POLL_SECONDS, max(0.0, deadline - time.monotonic())))
        version = ArtifactVersion.objects.filter(pk=version.pk).first() or version
    return version


def _files_fingerprint(version_id: int) -> tuple[int, int | None, int | None, int | None]:
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
            checked[digest] = blob_check_stored(digest, size, store=store, rehash=verified_at is None)
        if checked[digest]:
            return f"File '{path}' {checked[digest]}."
    return None


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
