"""Output shapes every NGC artifact object shares (models and resources answer `model`/`recipe`,
Helm charts `artifact`): the display fields of artifacts.core.models.ArtifactCore in NGC's
spelling, and the search hit of `/v2/search/...`. Being DRF serializers, they are also what the
OpenAPI schema (/api/schema/) states."""
from rest_framework import serializers

from accounts.serializers import NgcDateTimeField, ngc_datetime
from artifacts.core.models import ArtifactCore


def optional_text(**kwargs) -> serializers.CharField:
    """An input string NVIDIA's client may leave out or send as null (it sends null for every option not given)."""
    return serializers.CharField(required=False, allow_blank=True, allow_null=True, trim_whitespace=False, **kwargs)


def wire_labels(data: dict) -> list[str] | None:
    """The labels of an input body: `labelsV2` (what current clients send), else `labels` (the
    older spelling); None when neither is given."""
    return data["labelsV2"] if data.get("labelsV2") is not None else data.get("labels")


def user_label(user) -> str:
    """How NGC names who created something: the user's name, else their email."""
    return (user.name or user.email) if user is not None else ""


class BlankAsNullCharField(serializers.CharField):
    """A string that NVIDIA's client wants as null when empty (a logo URL)."""

    def __init__(self, **kwargs):
        super().__init__(allow_null=True, **kwargs)

    def to_representation(self, value):
        return value or None


class CreatedByUserField(serializers.CharField):
    """`createdByUser`: the label of the row's `created_by` ("" when the user is gone)."""

    def __init__(self, **kwargs):
        super().__init__(source="*", **kwargs)

    def to_representation(self, row) -> str:
        return user_label(row.created_by)


class ArtifactCoreOutput(serializers.Serializer):
    """The shared display fields; a kind's serializer adds `description` (its overview) and the rest."""

    name = serializers.CharField()
    orgName = serializers.CharField(source="org.name")
    teamName = serializers.CharField(source="team.name", allow_null=True)
    displayName = serializers.SerializerMethodField()
    shortDescription = serializers.CharField(source="short_description")
    labels = serializers.ListField(child=serializers.CharField())
    logo = BlankAsNullCharField()
    publisher = serializers.CharField()
    builtBy = serializers.CharField(source="built_by")
    createdDate = NgcDateTimeField(source="created_at")
    updatedDate = NgcDateTimeField(source="updated_at")
    createdByUser = CreatedByUserField()
    isPublic = serializers.SerializerMethodField()

    def get_displayName(self, artifact: ArtifactCore) -> str:
        return artifact.display_name or artifact.name

    def get_isPublic(self, artifact: ArtifactCore) -> bool:
        return False  # only container repositories can be unlocked


def search_hit(artifact: ArtifactCore, *, resource_type: str, name: str, description: str, attributes: dict, **extra) -> dict:
    """One hit of `/v2/search/.../resources/<TYPE>` (SearchResponseResultResource): NVIDIA's client
    flattens `attributes` into the kind's own fields."""
    return {
        "resourceId": artifact.resource_id,
        "resourceType": resource_type,
        "name": name,
        "displayName": artifact.display_name or name,
        "orgName": artifact.org.name,
        "teamName": artifact.team.name if artifact.team_id else None,
        "description": description,
        **extra,
        "dateCreated": ngc_datetime(artifact.created_at),
        "dateModified": ngc_datetime(artifact.updated_at),
        "labels": [{"key": "general", "values": list(artifact.labels)}] if artifact.labels else [],
        "attributes": [{"key": key, "value": value} for key, value in attributes.items()],
    }
