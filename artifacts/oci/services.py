"""Registry writes: repositories (created on first push), manifests and tags."""
from django.db import IntegrityError, transaction

from accounts.permissions import Action, can
from accounts.roles import Service
from artifacts.blobs.links import blob_put_bytes
from artifacts.digests import DEFAULT_ALGORITHM, digest_of, is_digest, parse_digest
from artifacts.gpu import tasks as gpu_tasks
from artifacts.models import Blob, Manifest, ManifestBlob, ManifestChild, Repository, Tag
from artifacts.oci.errors import OCIError
from artifacts.oci.manifests import parse_manifest
from artifacts.oci.names import TAG_RE, ResolvedName, resolve_name


def repository_get_or_create(*, resolved: ResolvedName, user) -> Repository:
    """The repository of a push. An existing one keeps the space it was created in. A new one is
    created in the space its name goes to now (re-resolved under the org row lock that
    team_create takes), for a user with WRITE on CONTAINER there: the caller's token was granted
    for the space the name went to when it was issued, and a team created since moves it.
    Parallel first pushes (docker's layers) race here: the database's unique name decides, and
    every loser reads the winner's row."""
    repository = Repository.objects.filter(name=resolved.name).first()
    if repository is not None:
        return repository
    try:
        with transaction.atomic():
            resolved = resolve_name(resolved.name, for_update=True)
            space = resolved.space
            if space is None:
                raise OCIError("NAME_UNKNOWN", detail={"name": resolved.name})
            if not can(user, Action.WRITE, space, service=Service.CONTAINER):
                raise OCIError("DENIED", f"requested access to {resolved.name} is denied")
            repository = Repository(
                org=space.org, team=space.team, name=resolved.name, path=resolved.path,
                created_by=user if user is not None and user.is_authenticated else None,
            )
            # Not validate_unique: its SELECT races a parallel INSERT and would fail as a ValidationError.
            repository.full_clean(validate_unique=False, validate_constraints=False)
            repository.save()
    except IntegrityError:  # a parallel push created it
        repository = Repository.objects.get(name=resolved.name)
    return repository


def manifest_put(*, repository: Repository, reference: str, content_type: str, body: bytes, user) -> Manifest:
    """Store a manifest under a tag or its digest. Its blobs must be in the repository
    (MANIFEST_BLOB_UNKNOWN) and an index's children must be manifests of it (MANIFEST_UNKNOWN)."""
    parsed = parse_manifest(body, content_type)
    by_digest = is_digest(reference)
    if by_digest:
        digest = digest_of(body, parse_digest(reference).algorithm)
        if digest != reference:
            raise OCIError("DIGEST_INVALID", detail=f"the manifest's digest is {digest}, not {reference}")
    else:
        if not TAG_RE.match(reference):
            raise OCIError("MANIFEST_INVALID", detail=f"invalid tag {reference!r}")
        digest = digest_of(body, DEFAULT_ALGORITHM)
    with transaction.atomic():
        wanted = set(parsed.blob_digests)
        blobs = list(
            Blob.objects.select_for_update().filter(digest__in=wanted, repositoryblob__repository=repository)
        )
        missing = wanted - {blob.digest for blob in blobs}
        if missing:
            raise OCIError("MANIFEST_BLOB_UNKNOWN", detail={"digests": sorted(missing)})
        children = list(Manifest.objects.filter(repository=repository, digest__in=set(parsed.child_digests)))
        missing = set(parsed.child_digests) - {child.digest for child in children}
        if missing:
            raise OCIError("MANIFEST_UNKNOWN", "an index references manifests unknown to this repository", detail={"digests": sorted(missing)})
        blob = blob_put_bytes(data=body, digest=digest, media_type=parsed.media_type)
        manifest, created = Manifest.objects.get_or_create(
            repository=repository, digest=digest,
            defaults={
                "media_type": parsed.media_type, "size": len(body), "blob": blob,
                "artifact_type": parsed.artifact_type, "subject_digest": parsed.subject_digest,
                "annotations": parsed.annotations,
                "created_by": user if user is not None and user.is_authenticated else None,
            },
        )
        if created:
            ManifestBlob.objects.bulk_create([ManifestBlob(manifest=manifest, blob=b) for b in blobs], ignore_conflicts=True)
            ManifestChild.objects.bulk_create([ManifestChild(index=manifest, child=c) for c in children], ignore_conflicts=True)
            gpu_tasks.manifest_pushed(manifest.pk)  # GPU-host checks (artifacts.gpu), owed in this transaction
        if not by_digest:
            tag = Tag.objects.select_for_update().filter(repository=repository, name=reference).first()
            if tag is None:
                Tag.objects.create(repository=repository, name=reference, manifest=manifest)
            elif tag.manifest_id != manifest.pk:
                tag.manifest = manifest
                tag.save(update_fields=["manifest", "updated_at"])
        repository.save(update_fields=["updated_at"])
    return manifest


def manifest_delete(*, repository: Repository, reference: str) -> None:
    """Delete by digest: the manifest and every tag on it. By tag: only that tag."""
    with transaction.atomic():
        if is_digest(reference):
            manifest = Manifest.objects.select_for_update().filter(repository=repository, digest=reference).first()
            if manifest is None:
                raise OCIError("MANIFEST_UNKNOWN")
            if manifest.parent_links.exists():
                raise OCIError("DENIED", "the manifest is referenced by an index; delete the index first", status=409)
            manifest.delete()
        else:
            deleted, _ = Tag.objects.filter(repository=repository, name=reference).delete()
            if not deleted:
                raise OCIError("MANIFEST_UNKNOWN")
