"""Registry writes: repositories (created on first push), manifests and tags."""
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.permissions import Action, can
from accounts.roles import Service
from artifacts.blobs.links import blob_put_bytes
from artifacts.db_conflicts import retry_on_conflict
from artifacts.digests import DEFAULT_ALGORITHM, digest_of, is_digest, parse_digest
from artifacts.gpu import tasks as gpu_tasks
from artifacts.models import Manifest, Repository, Tag
from registry_portal.oci_errors import OCIError
from artifacts.oci.fastpath import statements
from artifacts.oci.manifests import ParsedManifest, parse_manifest
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


def manifest_put(*, repository: Repository, reference: str, content_type: str, body: bytes, user_id: int | None) -> Manifest:
    """Store a manifest under a tag or its digest. Its blobs must be in the repository
    (MANIFEST_BLOB_UNKNOWN) and an index's children must be manifests of it (MANIFEST_UNKNOWN).

    A manifest already in the repository (a re-tag) is one statement that is its own transaction
    (artifacts.oci.fastpath.statements.manifest_retag). A new one is one transaction of a few
    statements whatever the number of layers (perf: docker tags with a PUT each;
    tests/artifacts/test_registry_query_budget.py pins the counts): the blobs checked and locked in
    one query, an index's children checked in one, the manifest, tag and repository written by the
    prepared statements of artifacts.oci.fastpath, nothing just written is read back."""
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
    manifest_id = retry_on_conflict(lambda: _manifest_store(repository, reference, parsed, body, digest, by_digest, user_id))
    return Manifest(pk=manifest_id, repository=repository, digest=digest, subject_digest=parsed.subject_digest)


def _manifest_store(repository: Repository, reference: str, parsed: ParsedManifest, body: bytes, digest: str, by_digest: bool, user_id: int | None) -> int:
    # perf: a manifest already in the repository (CI tags one image many times) has its bytes stored
    # and verified and its blobs held (PROTECT) by its row: tagging it is one statement that locks
    # that row against deletion. Only a manifest new to the repository goes the full way.
    manifest_id = statements.manifest_retag(
        repository_id=repository.pk, digest=digest, tag=None if by_digest else reference, now=timezone.now(),
    )
    if manifest_id is not None:
        return manifest_id
    return _manifest_write(repository, reference, parsed, body, digest, by_digest, user_id)


def _manifest_write(repository: Repository, reference: str, parsed: ParsedManifest, body: bytes, digest: str, by_digest: bool, user_id: int | None) -> int:
    with transaction.atomic():
        # Locked with their links against deletion: a blob DELETE or GC in the meantime waits for this push's commit.
        wanted = set(parsed.blob_digests)
        blobs = statements.manifest_blobs_lock(repository_id=repository.pk, digests=wanted)
        missing = wanted - blobs.keys()
        if missing:
            raise OCIError("MANIFEST_BLOB_UNKNOWN", detail={"digests": sorted(missing)})
        wanted = set(parsed.child_digests)
        children = dict(Manifest.objects.filter(repository=repository, digest__in=wanted).values_list("digest", "id")) if wanted else {}
        missing = wanted - children.keys()
        if missing:
            raise OCIError("MANIFEST_UNKNOWN", "an index references manifests unknown to this repository", detail={"digests": sorted(missing)})
        blob = blob_put_bytes(data=body, digest=digest, media_type=parsed.media_type)
        manifest_id, created = statements.manifest_write(
            repository_id=repository.pk, digest=digest, media_type=parsed.media_type, size=len(body), blob_id=blob.pk,
            artifact_type=parsed.artifact_type, subject_digest=parsed.subject_digest, annotations=parsed.annotations,
            user_id=user_id, blob_ids=list(blobs.values()), child_ids=list(children.values()),
            tag=None if by_digest else reference, now=timezone.now(),
        )
        if created:
            gpu_tasks.manifest_pushed(manifest_id)  # GPU-host checks (artifacts.gpu), owed in this transaction
    return manifest_id


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
