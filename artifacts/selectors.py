"""Reads for artifacts; registry reads take names the caller was already authorized for."""
from django.db.models import BigIntegerField, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce

from registry_portal.errors import NotFound
from accounts.permissions import Action, Space, can
from accounts.roles import Service
from artifacts.core.metadata import space_of
from artifacts.oci.fastpath import statements
from artifacts.models import Blob, Manifest, ManifestBlob, ManifestChild, Repository, Tag
from artifacts.platforms import image_details, manifest_platforms


def repository_by_name(name: str) -> Repository | None:
    return Repository.objects.filter(name=name).first()


def registry_blob(name: str, digest: str) -> tuple[bool, Blob | None]:
    """(does repository `name` exist, its blob `digest` with id, size and last_linked_at or None),
    in one statement whether the blob is there or not (perf: docker HEADs every layer before
    pushing it, and most of those HEADs miss)."""
    row = statements.repository_blob(name, digest)
    if row is None:
        return False, None
    _, blob_id, size, linked = row
    if blob_id is None:
        return True, None
    return True, Blob(pk=blob_id, digest=digest, size=size, last_linked_at=linked)


def referrers(repository: Repository, digest: str, *, artifact_type: str | None = None):
    rows = Manifest.objects.filter(repository=repository, subject_digest=digest).order_by("created_at", "pk")
    if artifact_type:
        rows = rows.filter(artifact_type=artifact_type)
    return rows


# --- the portal's container pages -------------------------------------------------------------


def container_repositories(user, space: Space, *, search: str = ""):
    """Repositories of exactly `space` that `user` may see (every one with READ on CONTAINER there,
    otherwise only public ones), each annotated with its latest tag: the pinned one, else the one
    pushed last (`latest_tag_name`, `latest_manifest_id`)."""
    rows = Repository.objects.filter(org=space.org, team=space.team)
    if not can(user, Action.READ, space, service=Service.CONTAINER):
        rows = rows.filter(is_public=True)
    if search:
        rows = rows.filter(Q(path__icontains=search) | Q(display_name__icontains=search))
    newest = Tag.objects.filter(repository=OuterRef("pk")).order_by("-updated_at", "-pk")
    return rows.select_related("org", "team").annotate(
        latest_tag_name=Coalesce(F("latest_tag__name"), Subquery(newest.values("name")[:1])),
        latest_manifest_id=Coalesce(
            F("latest_tag__manifest_id"), Subquery(newest.values("manifest_id")[:1]), output_field=BigIntegerField()
        ),
    ).order_by("name")


def attach_latest_sizes(repositories) -> list:
    """Set `latest_size` on each repository of a page (from `container_repositories`), in two queries."""
    repositories = list(repositories)
    sizes = manifest_sizes({r.latest_manifest_id for r in repositories if r.latest_manifest_id})
    for repository in repositories:
        repository.latest_size = sizes.get(repository.latest_manifest_id)
    return repositories


def manifest_sizes(manifest_ids) -> dict[int, int]:
    """Image size per manifest: the bytes of its config and layers; an index counts its children's."""
    ids = set(manifest_ids)
    if not ids:
        return {}
    children = list(ManifestChild.objects.filter(index_id__in=ids).values_list("index_id", "child_id"))
    direct = dict(
        ManifestBlob.objects.filter(manifest_id__in=ids | {child for _, child in children})
        .values("manifest_id").annotate(total=Sum("blob__size")).values_list("manifest_id", "total")
    )
    sizes = {pk: direct.get(pk, 0) for pk in ids}
    for index_id, child_id in children:
        sizes[index_id] += direct.get(child_id, 0)
    return sizes


def container_repository(user, name: str) -> Repository:
    """The repository `name` if `user` may see it (public, or READ on CONTAINER in its space);
    NotFound otherwise, with the same message whether it exists or not."""
    repository = Repository.objects.select_related("org", "team", "created_by").filter(name=name).first()
    if repository is None or not (
        repository.is_public or can(user, Action.READ, space_of(repository), service=Service.CONTAINER)
    ):
        raise NotFound(f"Container '{name}' not found.")
    return repository


def org_repository_under(org, first_component: str) -> Repository | None:
    """An org-level repository of `org` whose path starts with `<first_component>/`, if any."""
    return Repository.objects.filter(org=org, team=None, name__startswith=f"{org.name}/{first_component}/").order_by("name").first()


def repository_tags(repository: Repository):
    """The repository's tags, most recently pushed first, with their manifests."""
    return Tag.objects.filter(repository=repository).select_related("manifest").order_by("-updated_at", "-pk")


def repository_tag(repository: Repository, name: str) -> Tag:
    """One tag of a repository the caller may see; NotFound if there is no such tag."""
    tag = repository_tags(repository).filter(name=name).first()
    if tag is None:
        raise NotFound(f"Tag '{name}' not found in {repository.name}.")
    return tag


def latest_tag(repository: Repository) -> Tag | None:
    """The pinned latest tag (set-latest), else the one pushed last."""
    if repository.latest_tag_id:
        return Tag.objects.select_related("manifest").filter(pk=repository.latest_tag_id).first()
    return repository_tags(repository).first()


def describe_tags(tags) -> list:
    """Set `size` and `platforms` on each tag of a page (sizes in two queries, platforms from the blob store)."""
    tags = list(tags)
    sizes = manifest_sizes({tag.manifest_id for tag in tags})
    for tag in tags:
        tag.size = sizes.get(tag.manifest_id, 0)
        tag.platforms = manifest_platforms(tag.manifest.digest)
    return tags


def attach_image_details(repository: Repository, tags: list) -> list:
    """Set `images` (layers and config per platform, from the blob store) and `referrers` (the
    signatures, SBOMs and other artifacts whose subject is the tag's digest, in one query) on each
    tag of a page."""
    by_subject: dict[str, list[Manifest]] = {}
    subjects = {tag.manifest.digest for tag in tags}
    for row in Manifest.objects.filter(repository=repository, subject_digest__in=subjects).order_by("created_at", "pk"):
        by_subject.setdefault(row.subject_digest, []).append(row)
    for tag in tags:
        tag.images = image_details(tag.manifest.digest)
        tag.referrers = by_subject.get(tag.manifest.digest, [])
    return tags


# --- the NGC API's container endpoints ----------------------------------------------------------


def repository_in_space(user, space: Space, path: str) -> Repository:
    """The repository `path` of exactly `space` (`/v2/{ot}/repos/<path>`), if `user` may see it."""
    repository = container_repository(user, f"{space.path}/{path}")
    if repository.org_id != space.org.pk or repository.team_id != (space.team.pk if space.team else None):
        raise NotFound(f"Container '{space.path}/{path}' not found.")
    return repository


def pick_latest(repository: Repository, described_tags: list):
    """The latest of a repository's described tags (from `describe_tags(repository_tags(...))`, the
    newest first): the pinned one, else the one pushed last; None without tags."""
    for tag in described_tags:
        if tag.pk == repository.latest_tag_id:
            return tag
    return described_tags[0] if described_tags else None


def searchable_repositories(user, space: Space):
    """What an NGC search in `space` may list: the space's repositories `user` may see and, for an
    org, those of the org's teams where they may READ containers; public ones everywhere in it.
    Annotated like `container_repositories`, for `attach_latest_sizes`."""
    from django.db.models import Q

    from accounts.permissions import teams_with

    visible = Q(is_public=True)
    if space.team is not None:
        rows = Repository.objects.filter(org=space.org, team=space.team)
        if can(user, Action.READ, space, service=Service.CONTAINER):
            visible = Q()
    else:
        rows = Repository.objects.filter(org=space.org)
        if can(user, Action.READ, space, service=Service.CONTAINER):
            visible |= Q(team__isnull=True)
        visible |= Q(team__in=teams_with(user, space.org, Action.READ, service=Service.CONTAINER))
    newest = Tag.objects.filter(repository=OuterRef("pk")).order_by("-updated_at", "-pk")
    return rows.filter(visible).select_related("org", "team").annotate(
        latest_tag_name=Coalesce(F("latest_tag__name"), Subquery(newest.values("name")[:1])),
        latest_manifest_id=Coalesce(
            F("latest_tag__manifest_id"), Subquery(newest.values("manifest_id")[:1]), output_field=BigIntegerField()
        ),
    ).order_by("name")


def glob_regex(pattern: str) -> str:
    """A shell-style pattern (`*`, `?`) as an anchored regular expression both PostgreSQL and
    SQLite read the same way; every other character is literal."""
    parts = []
    for char in pattern:
        if char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        elif char.isalnum() or char in "/_":
            parts.append(char)
        else:
            parts.append("\\" + char)
    return "^" + "".join(parts) + "$"


def matching_glob(rows, pattern: str, *, full_name: bool = False):
    """Repositories whose full name `org[/team]/path` matches the pattern, or (unless `full_name`)
    whose path within the space does."""
    from django.db.models import Q

    regex = glob_regex(pattern)
    return rows.filter(Q(name__regex=regex) if full_name else Q(name__regex=regex) | Q(path__regex=regex))
