"""Reads for models and resources, scoped by the policy.

READ on the kind's service (MODEL, MODELSCRIPT) in a space shows its artifacts; team artifacts are
invisible outside the team (the policy grants org-level roles no team reach except the org-wide
ones). Lists span the org and the caller's readable teams in one query each, with the rows a
response needs joined in (org, team, latest version, creators): no per-row queries.
"""
from django.db.models import QuerySet

from registry_portal.errors import NotFound
from accounts.permissions import Space
from artifacts.core.selectors import readable_in_scope, readable_one
from artifacts.versioned.models import SERVICE_OF_KIND, ArtifactFile, ArtifactVersion, VersionedArtifact
from artifacts.versioned.semver import semver_desc
from artifacts.versioned.services import kind_label


def artifacts_in_search_scope(user, space: Space, kind: str) -> QuerySet:
    """Artifacts of `kind` the user may read in `space` (artifacts.core.selectors.readable_in_scope)."""
    return readable_in_scope(user, VersionedArtifact.objects.filter(kind=kind), space, service=SERVICE_OF_KIND[kind])


def artifact_in_space(user, space: Space, kind: str, name: str) -> VersionedArtifact:
    """The artifact `name` of `space`; NotFound unless it exists and the user may READ it."""
    return readable_one(
        user, VersionedArtifact.objects.filter(kind=kind), space, name,
        service=SERVICE_OF_KIND[kind], missing=f"{kind_label(kind)} '{space.path}/{name}' not found.",
    )


def _versions(artifact: VersionedArtifact) -> QuerySet:
    return ArtifactVersion.objects.filter(artifact=artifact).select_related("created_by")


def artifact_versions(artifact: VersionedArtifact, *, sort_order: str | None = None) -> list[ArtifactVersion]:
    """All versions, newest first, or by SemVer precedence (non-SemVer after) for SEMVER_DESC."""
    rows = list(_versions(artifact).order_by("-created_at", "-id"))
    if (sort_order or "").upper() == "SEMVER_DESC":
        rows = semver_desc(rows)
    for row in rows:
        row.artifact = artifact
    return rows


def version_of(artifact: VersionedArtifact, version: str) -> ArtifactVersion:
    row = _versions(artifact).filter(version=version).first()
    if row is None:
        raise NotFound(f"Version '{version}' of '{artifact.resource_id}' not found.")
    row.artifact = artifact
    return row


def version_files(version: ArtifactVersion) -> QuerySet:
    return ArtifactFile.objects.filter(version=version).order_by("path")
