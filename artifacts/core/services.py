"""The write steps every versioned artifact kind (models/resources, Helm charts) shares; the kinds'
services check permissions and clean their fields first (artifacts.core.metadata)."""
from typing import TypeVar

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from artifacts.core.metadata import full_clean_or_invalid
from artifacts.core.models import ArtifactCore
from registry_portal.errors import Conflict

Artifact = TypeVar("Artifact", bound=ArtifactCore)  # a concrete kind: its `objects` and its own type back


def artifact_insert(artifact: ArtifactCore, *, same_name: QuerySet, conflict: str) -> None:
    """Save a new artifact row. Conflict(`conflict`) when `same_name` finds one already, or when a
    concurrent insert wins the unique constraint."""
    full_clean_or_invalid(artifact, validate_constraints=False, exclude=["latest_version"])
    try:
        with transaction.atomic():
            if same_name.exists():
                raise Conflict(conflict)
            artifact.save()
    except IntegrityError:
        raise Conflict(conflict) from None


def artifact_change(artifact: Artifact, changes: dict) -> Artifact:
    """Set cleaned `changes` on the artifact's row, re-read under a lock, check it and save only
    those fields: a refused change saves nothing, a concurrent one is not overwritten."""
    if not changes:
        return artifact
    with transaction.atomic():
        locked = type(artifact)._default_manager.order_by().select_for_update().get(pk=artifact.pk)
        locked.org, locked.team = artifact.org, artifact.team
        for name, value in changes.items():
            setattr(locked, name, value)
        full_clean_or_invalid(locked, validate_constraints=False, exclude=["latest_version"])
        locked.save(update_fields=[*changes, "updated_at"])
    return locked
