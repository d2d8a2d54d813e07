"""The rules every artifact kind's display metadata follows, once: container repositories, models
and resources, Helm charts (artifacts.core.models.ArtifactCore), and GPU host labels.

- Labels: trimmed (inner whitespace collapsed), empty ones dropped, duplicates removed in order;
  at most MAX_LABELS of at most MAX_LABEL_LENGTH characters. Too many or too long is refused,
  never cut (the limits containers always had, decided for every kind).
- Names: the NGC name grammar (registry_portal.names).
- Deleting (guide 3.6, 4.6, 6.3): a Registry Admin (ADMIN on the kind's service), or WRITE and
  having created the artifact or the version/tag being removed. `may_delete` is what pages ask
  to decide whether to show a Delete button; `require_delete` is what services enforce.
- A model's ValidationError becomes InvalidInput, which every face renders in its own format.
"""
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import models

from accounts.permissions import Action, Space, can, require
from artifacts.core.models import ArtifactCore
from registry_portal.errors import AccessDenied, InvalidInput

MAX_LABELS = 50
MAX_LABEL_LENGTH = 100


def clean_labels(labels: Iterable[str]) -> list[str]:
    """The labels as stored; InvalidInput (field `labels`) for anything but a list of strings
    within the limits."""
    if not isinstance(labels, (list, tuple)) or not all(isinstance(label, str) for label in labels):
        raise InvalidInput("labels must be a list of strings.", field="labels")
    cleaned: list[str] = []
    for label in labels:
        label = " ".join(label.split())
        if len(label) > MAX_LABEL_LENGTH:
            raise InvalidInput(f"A label may have at most {MAX_LABEL_LENGTH} characters.", field="labels")
        if label and label not in cleaned:
            cleaned.append(label)
    if len(cleaned) > MAX_LABELS:
        raise InvalidInput(f"At most {MAX_LABELS} labels are allowed; got {len(cleaned)}.", field="labels")
    return cleaned


def labels_from_text(text: str) -> list[str]:
    """Labels typed in a form, comma-separated ("NLP, BERT")."""
    return [label.strip() for label in text.split(",") if label.strip()]


def space_of(artifact: ArtifactCore) -> Space:
    return Space(artifact.org, artifact.team)


def may_edit(user, artifact: ArtifactCore) -> bool:
    """WRITE on the artifact's service in its space."""
    return can(user, Action.WRITE, space_of(artifact), service=artifact.service)


def require_edit(user, artifact: ArtifactCore) -> None:
    require(user, Action.WRITE, space_of(artifact), service=artifact.service)


def may_delete(user, artifact: ArtifactCore, *, pushed_by_id: int | None = None) -> bool:
    """Registry Admin, or WRITE and having created the artifact or (for a version or a tag) pushed
    what is removed (`pushed_by_id`)."""
    space = space_of(artifact)
    return any(
        can(user, Action.DELETE, space, service=artifact.service, creator_id=creator_id)
        for creator_id in (artifact.created_by_id, pushed_by_id)
    )


def require_delete(user, artifact: ArtifactCore, *, pushed_by_id: int | None = None) -> None:
    """`may_delete`, or NotFound (space not visible) / AccessDenied."""
    require(user, Action.READ, space_of(artifact), service=artifact.service)
    if not may_delete(user, artifact, pushed_by_id=pushed_by_id):
        raise AccessDenied(f"Only a Registry Admin or its creator may delete '{artifact.resource_id}'.")


def full_clean_or_invalid(instance: models.Model, **kwargs) -> None:
    """`instance.full_clean(**kwargs)`, its first error raised as InvalidInput ("field: message")."""
    try:
        instance.full_clean(**kwargs)
    except ValidationError as error:
        if not hasattr(error, "error_dict"):
            raise InvalidInput(" ".join(error.messages)) from None
        field, messages = next(iter(error.message_dict.items()))
        if field == "__all__":
            raise InvalidInput(" ".join(messages)) from None
        raise InvalidInput(f"{field}: {' '.join(messages)}", field=field) from None
