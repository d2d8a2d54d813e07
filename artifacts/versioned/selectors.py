"""Reads for models and resources, scoped by the policy.

READ on the kind's service (MODEL, MODELSCRIPT) in a space shows its artifacts; team artifacts are
invisible outside the team (the policy grants org-level roles no team reach except the org-wide
ones). Lists span the org and the caller's readable teams in one query each, with the rows a
response needs joined in (org, team, latest version, creators): no per-row queries.
"""
from django.db.models import Case, CharField, Q, QuerySet, Value, When
from django.db.models.functions import Concat

from registry_portal.errors import NotFound
from accounts.permissions import Action, Space, can, teams_with
from artifacts.selectors import glob_regex
from artifacts.versioned.models import ArtifactFile, ArtifactVersion, VersionedArtifact
from artifacts.versioned.semver import semver_desc
from artifacts.versioned.models import SERVICE_OF_KIND
from artifacts.versioned.services import kind_label


def _with_relations(rows: QuerySet) -> QuerySet:
    return rows.select_related("org", "team", "latest_version", "created_by")


def artifacts_in_search_scope(user, space: Space, kind: str) -> QuerySet:
    """Artifacts of `kind` the user may read in `space`: for an org space, the org's own and those
    of the org's teams the user may read; for a team space, that team's."""
    service = SERVICE_OF_KIND[kind]
    rows = VersionedArtifact.objects.filter(kind=kind, org=space.org)
    if space.team is not None:
        if not can(user, Action.READ, space, service=service):
            return rows.none()
        return _with_relations(rows.filter(team=space.team))
    condition = Q(team__in=teams_with(user, space.org, Action.READ, service=service))
    if can(user, Action.READ, space, service=service):
        condition |= Q(team__isnull=True)
    return _with_relations(rows.filter(condition))


def matching_glob(rows: QuerySet, pattern: str) -> QuerySet:
    """Rows whose `org/[team/]name` matches a shell-style pattern (`*` also crosses '/')."""
    if pattern in ("", "*"):
        return rows
    # Concat coalesces NULL to '' part by part, so the team segment is chosen explicitly.
    team_segment = Case(
        When(team__isnull=True, then=Value("")), default=Concat("team__name", Value("/")), output_field=CharField()
    )
    resource_id = Concat("org__name", Value("/"), team_segment, "name", output_field=CharField())
    return rows.annotate(resource_id_text=resource_id).filter(resource_id_text__regex=glob_regex(pattern))


def artifact_in_space(user, space: Space, kind: str, name: str) -> VersionedArtifact:
    """The artifact `name` of `space`; NotFound unless it exists and the user may READ it."""
    artifact = None
    if can(user, Action.READ, space, service=SERVICE_OF_KIND[kind]):
        artifact = _with_relations(VersionedArtifact.objects.filter(kind=kind, org=space.org, team=space.team, name=name)).first()
    if artifact is None:
        raise NotFound(f"{kind_label(kind)} '{space.path}/{name}' not found.")
    return artifact


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
