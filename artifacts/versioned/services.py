"""Writes for models and resources (artifact metadata, versions and their metadata).

Rules enforced here: WRITE on the kind's service (MODEL for models, MODELSCRIPT for resources) to
create or edit; DELETE (Registry Admin, or the creator with WRITE) to remove; names unique per
kind and space; a version string unique per artifact, auto-incremented for resources when
omitted; at most 3 custom metrics tables of at most 12 attributes each; only UPLOAD_COMPLETE
versions are ever an artifact's latest. Status changes belong to `transfers/finalize.py`.
"""
from django.db import transaction

from registry_portal.errors import Conflict, InvalidInput
from accounts.permissions import Action, Space, require
from artifacts.core.metadata import clean_labels, full_clean_or_invalid, require_delete, require_edit
from artifacts.core.services import artifact_change, artifact_insert
from artifacts.versioned.choices import normalise_choice
from artifacts.versioned.models import SERVICE_OF_KIND, ArtifactKind, ArtifactVersion, LinkType, VersionedArtifact, VersionStatus
from artifacts.versioned.semver import semver_desc, semver_key

MAX_METRICS_TABLES = 3
MAX_METRICS_ATTRIBUTES = 12

ARTIFACT_FIELDS = frozenset({
    "display_name", "short_description", "description", "labels", "logo", "publisher", "built_by", "owner_name",
    "application", "framework", "model_format", "precision", "public_dataset_name", "public_dataset_link",
    "public_dataset_license", "advanced_guide", "performance", "quick_start_guide", "release_notes", "setup_guide",
})
VERSION_FIELDS = frozenset({
    "description", "accuracy_reached", "batch_size", "gpu_model", "memory_footprint", "number_of_epochs", "link",
    "link_type", "owner_name", "custom_metrics",
})
_CHOICE_FIELDS = {"application": "application", "framework": "framework", "model_format": "modelFormat", "precision": "precision"}


def kind_label(kind: str) -> str:
    return ArtifactKind(kind).label


def _clean_artifact_fields(fields: dict) -> dict:
    unknown = set(fields) - ARTIFACT_FIELDS
    if unknown:
        raise TypeError(f"unknown artifact fields: {sorted(unknown)}")
    cleaned = {}
    for name, value in fields.items():
        if name in _CHOICE_FIELDS:
            value = normalise_choice(_CHOICE_FIELDS[name], value)
        elif name == "labels":
            value = clean_labels(value)
        elif value is None:
            value = ""
        cleaned[name] = value
    return cleaned


def validate_custom_metrics(tables) -> list[dict]:
    """At most 3 tables, each with a name and at most 12 {key, value} string attributes; duplicate
    keys are kept, in order (the guide's ZeppelinTable has two "John")."""
    if tables is None:
        return []
    if not isinstance(tables, list):
        raise InvalidInput("customMetrics must be a list of tables.", field="customMetrics")
    if len(tables) > MAX_METRICS_TABLES:
        raise InvalidInput(
            f"At most {MAX_METRICS_TABLES} custom metrics tables are allowed per version; got {len(tables)}.",
            field="customMetrics",
        )
    cleaned = []
    for index, table in enumerate(tables, start=1):
        if not isinstance(table, dict):
            raise InvalidInput(f"Custom metrics table {index} must be an object.", field="customMetrics")
        name = table.get("name")
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput(f"Custom metrics table {index} needs a name.", field="customMetrics")
        attributes = table.get("attributes") or []
        if not isinstance(attributes, list):
            raise InvalidInput(f"The attributes of table '{name}' must be a list.", field="customMetrics")
        if len(attributes) > MAX_METRICS_ATTRIBUTES:
            raise InvalidInput(
                f"Custom metrics table '{name}' has {len(attributes)} attributes; at most "
                f"{MAX_METRICS_ATTRIBUTES} are allowed per table.",
                field="customMetrics",
            )
        rows = []
        for attribute in attributes:
            if (
                not isinstance(attribute, dict)
                or not isinstance(attribute.get("key"), str)
                or not isinstance(attribute.get("value"), str)
                or not attribute["key"].strip()
            ):
                raise InvalidInput(
                    f"Every attribute of table '{name}' needs a string key and a string value.", field="customMetrics"
                )
            rows.append({"key": attribute["key"], "value": attribute["value"]})
        cleaned.append({"name": name.strip(), "attributes": rows})
    return cleaned


def _clean_version_fields(fields: dict) -> dict:
    unknown = set(fields) - VERSION_FIELDS
    if unknown:
        raise TypeError(f"unknown version fields: {sorted(unknown)}")
    cleaned = {name: ("" if value is None else value) for name, value in fields.items() if name != "custom_metrics"}
    if "custom_metrics" in fields:
        cleaned["custom_metrics"] = validate_custom_metrics(fields["custom_metrics"])
    if cleaned.get("link_type"):
        by_key = {choice.upper(): choice for choice in LinkType.values}
        link_type = by_key.get(str(cleaned["link_type"]).upper())
        if link_type is None:
            raise InvalidInput(f"linkType must be one of {', '.join(LinkType.values)}.", field="linkType")
        cleaned["link_type"] = link_type
    return cleaned


# --- artifacts ----------------------------------------------------------------------------------


def artifact_create(*, actor, space: Space, kind: str, name: str, **fields) -> VersionedArtifact:
    """Create a model or resource in `space`. WRITE on the kind's service; 409 if the name is taken."""
    require(actor, Action.WRITE, space, service=SERVICE_OF_KIND[kind])
    artifact = VersionedArtifact(
        kind=kind, org=space.org, team=space.team, name=name, created_by=actor, **_clean_artifact_fields(fields)
    )
    artifact_insert(
        artifact, same_name=VersionedArtifact.objects.filter(kind=kind, org=space.org, team=space.team, name=name),
        conflict=f"{kind_label(kind)} '{space.path}/{name}' already exists.",
    )
    return artifact


def artifact_update(*, actor, artifact: VersionedArtifact, **changes) -> VersionedArtifact:
    """Change metadata fields (only those given). WRITE on the kind's service."""
    require_edit(actor, artifact)
    return artifact_change(artifact, _clean_artifact_fields(changes))


def artifact_delete(*, actor, artifact: VersionedArtifact) -> None:
    """Remove a model or resource with all its versions and file rows (the blobs stay for GC).
    Registry Admin, or the artifact's creator with WRITE."""
    require_delete(actor, artifact)
    with transaction.atomic():
        locked = VersionedArtifact.objects.select_for_update().get(pk=artifact.pk)
        locked.latest_version = None
        locked.save(update_fields=["latest_version"])
        locked.delete()


# --- versions -----------------------------------------------------------------------------------


def _next_version(artifact: VersionedArtifact) -> str:
    numbers = [int(v) for v in artifact.versions.values_list("version", flat=True) if v.isdigit()]
    return str(max(numbers, default=0) + 1)


def version_create(*, actor, artifact: VersionedArtifact, version: str | None = None, **fields) -> ArtifactVersion:
    """Create a version in UPLOAD_PENDING. WRITE on the kind's service. Resources get the next
    integer when no version is given; an existing version is a 409 (the client then resumes)."""
    require_edit(actor, artifact)
    cleaned = _clean_version_fields(fields)
    version = (version or "").strip() or None
    if version is None and artifact.kind != ArtifactKind.RESOURCE:
        raise InvalidInput("versionId is required.", field="versionId")
    with transaction.atomic():
        # The artifact row serialises version creation (and the auto-increment) per artifact.
        VersionedArtifact.objects.select_for_update().get(pk=artifact.pk)
        if version is None:
            version = _next_version(artifact)
        row = ArtifactVersion(artifact=artifact, version=version, created_by=actor, **cleaned)
        full_clean_or_invalid(row, validate_constraints=False)
        if ArtifactVersion.objects.filter(artifact=artifact, version=version).exists():
            raise Conflict(f"Version '{version}' of '{artifact.resource_id}' already exists.")
        row.save()
    row.artifact = artifact
    return row


def version_update(*, actor, version: ArtifactVersion, **changes) -> ArtifactVersion:
    """Change version metadata (only fields given). WRITE on the kind's service."""
    artifact = version.artifact
    require_edit(actor, artifact)
    cleaned = _clean_version_fields(changes)
    if not cleaned:
        return version
    with transaction.atomic():
        locked = ArtifactVersion.objects.select_for_update().get(pk=version.pk)
        for name, value in cleaned.items():
            setattr(locked, name, value)
        full_clean_or_invalid(locked, validate_constraints=False)
        locked.save(update_fields=[*cleaned, "updated_at"])
    locked.artifact = artifact
    return locked


def pick_latest(versions: list[ArtifactVersion]) -> ArtifactVersion | None:
    """Of complete versions: the highest SemVer when all are SemVer, else the newest."""
    versions = [v for v in versions if v.status == VersionStatus.UPLOAD_COMPLETE]
    if not versions:
        return None
    if all(semver_key(v.version) is not None for v in versions):
        return semver_desc(versions)[0]
    return max(versions, key=lambda v: (v.created_at, v.pk))


def version_delete(*, actor, version: ArtifactVersion) -> None:
    """Remove one version and its file rows; the artifact's latest moves to the next complete one.
    Registry Admin, or the creator (of the version or of the artifact) with WRITE."""
    artifact = version.artifact
    require_delete(actor, artifact, pushed_by_id=version.created_by_id)
    with transaction.atomic():
        locked = VersionedArtifact.objects.select_for_update().get(pk=artifact.pk)
        ArtifactVersion.objects.filter(pk=version.pk).delete()
        latest = pick_latest(list(ArtifactVersion.objects.filter(artifact=locked, status=VersionStatus.UPLOAD_COMPLETE)))
        latest_id = latest.pk if latest else None
        if locked.latest_version_id != latest_id:
            locked.latest_version_id = latest_id
            locked.save(update_fields=["latest_version", "updated_at"])
