"""Container repository metadata and removal (NGC API, portal): create, update, delete, tags.

Blob writes (uploads, commits, mounts, garbage collection) are in artifacts/blobs/; protocol-specific
writes (repositories on first push, manifests) in artifacts/oci/services.py.
"""
from functools import partial

from django.db import IntegrityError, transaction
from django.utils import timezone

from registry_portal.errors import Conflict, InvalidInput, NotFound
from accounts.permissions import Action, Space, require
from accounts.roles import Service
from artifacts.blobs.store import get_blob_store
from artifacts.core.metadata import clean_labels, full_clean_or_invalid, require_delete, require_edit, space_of
from artifacts.models import ManifestChild, Repository, Tag, UploadSession
from artifacts.oci.names import InvalidName, resolve_name

# --- container repository metadata and removal ------------------------------------------------

# The metadata `ngc registry image create|update` may set (guide 3.5), by model field.
METADATA_FIELDS = ("display_name", "description", "overview", "labels", "logo", "publisher", "built_by")


def _apply_metadata(repository: Repository, changes: dict) -> list[str]:
    """Set the given metadata fields on the (unsaved) repository; the names of the fields set."""
    for name, value in changes.items():
        if name not in METADATA_FIELDS:
            raise InvalidInput(f"Unknown repository field '{name}'.", field=name)
        if name == "labels":
            value = clean_labels(value)
        elif not isinstance(value, str):
            raise InvalidInput(f"{name} must be a string.", field=name)
        elif name != "overview":
            value = value.strip()
        setattr(repository, name, value)
    return list(changes)


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
    full_clean_or_invalid(repository, exclude=["name"])
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
    require_edit(actor, repository)
    if is_public is not None:
        if not isinstance(is_public, bool):
            raise InvalidInput("isPublic must be true or false.", field="isPublic")
        require(actor, Action.DELETE, space_of(repository), service=Service.CONTAINER, creator_id=repository.created_by_id)
    with transaction.atomic():
        locked = Repository.objects.select_for_update().get(pk=repository.pk)
        fields = _apply_metadata(locked, changes)
        if is_public is not None:
            locked.is_public = is_public
            fields.append("is_public")
        full_clean_or_invalid(locked)
        if fields:
            locked.save(update_fields=[*fields, "updated_at"])
    return locked


def repository_set_public(*, actor, repository: Repository, is_public: bool) -> Repository:
    """Unlock (anyone may pull) or lock a repository; see repository_update for who may."""
    return repository_update(actor=actor, repository=repository, is_public=is_public)


def repository_delete(*, actor, repository: Repository) -> None:
    """Delete a whole repository: its tags, manifests and upload sessions (Registry Admin, or its
    creator with WRITE). Blobs are not touched here: the ones no other manifest references go at
    the next garbage collection. The registry answers NAME_UNKNOWN for the name afterwards."""
    require_delete(actor, repository)
    with transaction.atomic():
        Repository.objects.select_for_update().filter(pk=repository.pk).first()
        session_ids = list(UploadSession.objects.filter(repository=repository).values_list("pk", flat=True))
        # An index PROTECTs its children: drop the links first, then everything cascades.
        ManifestChild.objects.filter(index__repository=repository).delete()
        repository.delete()
        store = get_blob_store()
        for session_id in session_ids:
            transaction.on_commit(partial(store.delete_upload, str(session_id)))


def tag_delete(*, actor, repository: Repository, tag: str) -> None:
    """Remove one tag (`ngc registry image remove repo:tag`): Registry Admin, or WRITE and having
    created the repository or pushed the tag's image. The manifest stays, reachable by digest."""
    require(actor, Action.VIEW_SPACE, space_of(repository))
    with transaction.atomic():
        row = Tag.objects.select_for_update(of=("self",)).select_related("manifest").filter(repository=repository, name=tag).first()
        if row is None:
            raise NotFound(f"Tag '{tag}' not found in repository '{repository.name}'.")
        require_delete(actor, repository, pushed_by_id=row.manifest.created_by_id)
        row.delete()
        Repository.objects.filter(pk=repository.pk).update(updated_at=timezone.now())


def tag_set_latest(*, actor, repository: Repository, tag: str) -> Repository:
    """Pin `tag` as the repository's latest tag (WRITE on CONTAINER)."""
    require_edit(actor, repository)
    with transaction.atomic():
        locked = Repository.objects.select_for_update().get(pk=repository.pk)
        row = Tag.objects.filter(repository=locked, name=tag).first()
        if row is None:
            raise NotFound(f"Tag '{tag}' not found in repository '{repository.name}'.")
        locked.latest_tag = row
        locked.save(update_fields=["latest_tag", "updated_at"])
    return locked
