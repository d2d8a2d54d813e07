"""The commit: verified blobs linked into a version at their paths (`POST /v2/{ot}/files/commit`)."""
from django.db import transaction
from django.utils import timezone

from artifacts.models import Blob
from artifacts.versioned.models import ArtifactFile, ArtifactVersion, VersionStatus
from artifacts.versioned.transfers.rules import Actor, clean_path, require_upload, sha256_hex
from artifacts.versioned.transfers.scope import blobs_readable
from registry_portal.errors import Conflict, InvalidInput, NotFound

MAX_FILES_PER_COMMIT = 10_000  # the client sends 4000 per commit


def files_commit(*, actor: Actor, version: ArtifactVersion, files: list, base_version: str | None = None) -> int:
    """Link verified bytes into a version at their paths (`POST /v2/{ot}/files/commit`); the number
    of files added.

    Rules: WRITE; the version is not UPLOAD_COMPLETE; each path is a safe relative path, listed
    once, and neither a file and a directory of another file; each sha256 names bytes the caller
    may already read (completed by an upload of theirs, or a file of an artifact they may read), so
    a known hash alone never pulls another tenant's file in; a path already in the version keeps
    its content (the same sha256 again is a no-op, another one is refused). `baseVersion` adds the
    files of that complete version of the same artifact at the paths not taken. All or nothing.
    """
    require_upload(actor, version)
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
