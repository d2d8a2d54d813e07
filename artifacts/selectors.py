"""Reads for artifacts; registry reads take names the caller was already authorized for."""
from accounts.permissions import Action, Space, can
from accounts.roles import Service
from artifacts.digests import is_digest
from artifacts.models import Blob, Manifest, Repository, Tag


def repository_by_name(name: str) -> Repository | None:
    return Repository.objects.filter(name=name).first()


def repository_blob(repository: Repository, digest: str) -> Blob | None:
    return Blob.objects.filter(digest=digest, repositoryblob__repository=repository).first()


def manifest_by_reference(repository: Repository, reference: str) -> Manifest | None:
    if is_digest(reference):
        return Manifest.objects.filter(repository=repository, digest=reference).first()
    tag = Tag.objects.select_related("manifest").filter(repository=repository, name=reference).first()
    return tag.manifest if tag else None


def tag_names(repository: Repository, *, last: str | None = None, limit: int | None = None) -> list[str]:
    """Tag names in lexical order after `last`; `limit + 1` rows so the caller can tell if there is more."""
    rows = Tag.objects.filter(repository=repository)
    if last:
        rows = rows.filter(name__gt=last)
    rows = rows.order_by("name").values_list("name", flat=True)
    return list(rows[: limit + 1] if limit is not None else rows)


def referrers(repository: Repository, digest: str, *, artifact_type: str | None = None):
    rows = Manifest.objects.filter(repository=repository, subject_digest=digest).order_by("created_at", "pk")
    if artifact_type:
        rows = rows.filter(artifact_type=artifact_type)
    return rows


def repositories_pullable(user, *, last: str | None = None) -> list[str]:
    """Names of the repositories `user` may pull (public ones, and those in spaces they may read)."""
    rows = Repository.objects.select_related("org", "team").order_by("name")
    if last:
        rows = rows.filter(name__gt=last)
    names = []
    for repository in rows:
        if repository.is_public or (
            user is not None and user.is_authenticated
            and can(user, Action.READ, Space(repository.org, repository.team), service=Service.CONTAINER)
        ):
            names.append(repository.name)
    return names
