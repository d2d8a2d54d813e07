"""Wire shapes of models and resources (reference/ngc-api.md §5.2, §5.5 and its Addendum).

Input serializers turn NGC's camelCase bodies into service keyword arguments; output functions
build the response objects. Models answer `model`/`modelVersion…`, resources `recipe`/`recipeVersion…`
with `trainingFramework` for the framework. Only string ids (`versionId`, `latestVersionIdStr`):
NVIDIA's client parses the legacy integer ids as int.
"""
from rest_framework import serializers

from registry_portal.errors import InvalidInput
from accounts.serializers import NgcDateTimeField, ngc_datetime
from artifacts.versioned.models import ArtifactFile, ArtifactKind, ArtifactVersion, VersionedArtifact

JSON_KEYS = {
    ArtifactKind.MODEL: {"one": "model", "version": "modelVersion", "versions": "modelVersions", "files": "modelFiles"},
    ArtifactKind.RESOURCE: {
        "one": "recipe", "version": "recipeVersion", "versions": "recipeVersions", "files": "recipeFiles",
    },
}


def json_key(kind: str, what: str) -> str:
    return JSON_KEYS[kind][what]


def _text(**kwargs):
    return serializers.CharField(required=False, allow_blank=True, allow_null=True, trim_whitespace=False, **kwargs)


class PublicDatasetInput(serializers.Serializer):
    name = _text()
    link = _text()
    license = _text()


# wire name → service keyword
ARTIFACT_WIRE = {
    "displayName": "display_name", "shortDescription": "short_description", "description": "description",
    "logo": "logo", "publisher": "publisher", "builtBy": "built_by", "ownerName": "owner_name",
    "application": "application", "framework": "framework", "trainingFramework": "framework",
    "modelFormat": "model_format", "precision": "precision", "advanced": "advanced_guide",
    "performance": "performance", "quickStartGuide": "quick_start_guide", "releaseNotes": "release_notes",
    "setup": "setup_guide",
}


class ArtifactInput(serializers.Serializer):
    """The create/update body of `ngc registry model|resource create|update` (unknown keys ignored:
    bias, explainability, privacy, safetyAndSecurity, encryptionKey…)."""

    name = serializers.CharField(required=False, max_length=64)
    displayName = _text()
    shortDescription = _text()
    description = _text()
    logo = _text()
    publisher = _text()
    builtBy = _text()
    ownerName = _text()
    application = _text()
    framework = _text()
    trainingFramework = _text()
    modelFormat = _text()
    precision = _text()
    advanced = _text()
    performance = _text()
    quickStartGuide = _text()
    releaseNotes = _text()
    setup = _text()
    labelsV2 = serializers.ListField(child=serializers.CharField(allow_blank=True), required=False, allow_null=True)
    labels = serializers.ListField(child=serializers.CharField(allow_blank=True), required=False, allow_null=True)
    publicDatasetUsed = PublicDatasetInput(required=False, allow_null=True)

    def service_kwargs(self) -> dict:
        """Keyword arguments for artifact_create/update: only fields present and not null (the CLI
        sends null for every option not given)."""
        data = self.validated_data
        kwargs = {ARTIFACT_WIRE[key]: value for key, value in data.items() if key in ARTIFACT_WIRE and value is not None}
        labels = data.get("labelsV2") if data.get("labelsV2") is not None else data.get("labels")
        if labels is not None:
            kwargs["labels"] = labels
        dataset = data.get("publicDatasetUsed")
        if dataset:
            for key in ("name", "link", "license"):
                if dataset.get(key) is not None:
                    kwargs[f"public_dataset_{key}"] = dataset[key]
        return kwargs


class KeyValueInput(serializers.Serializer):
    key = serializers.CharField(allow_blank=True)
    value = serializers.CharField(allow_blank=True)


VERSION_WIRE = {
    "description": "description", "accuracyReached": "accuracy_reached", "batchSize": "batch_size",
    "gpuModel": "gpu_model", "memoryFootprint": "memory_footprint", "numberOfEpochs": "number_of_epochs",
    "ownerName": "owner_name", "link": "link", "linkType": "link_type",
}
# Resource versions carry the resource's documentation tabs too (the CLI's "common recipe/version" fields).
VERSION_DOCS_WIRE = {
    "releaseNotes": "release_notes", "performance": "performance", "quickStartGuide": "quick_start_guide",
    "setup": "setup_guide", "advanced": "advanced_guide",
}


class VersionInput(serializers.Serializer):
    """The create/update body of a version (`upload-version`, `update <target>:<version>`)."""

    versionId = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=64)
    description = _text()
    accuracyReached = _text()
    batchSize = _text()
    gpuModel = _text()
    memoryFootprint = _text()
    numberOfEpochs = _text()
    ownerName = _text()
    link = _text()
    linkType = _text()
    otherContents = KeyValueInput(many=True, required=False, allow_null=True)
    customMetrics = serializers.JSONField(required=False, allow_null=True)
    releaseNotes = _text()
    performance = _text()
    quickStartGuide = _text()
    setup = _text()
    advanced = _text()
    status = serializers.CharField(required=False, allow_null=True)

    def version_kwargs(self) -> dict:
        data = self.validated_data
        kwargs = {VERSION_WIRE[key]: value for key, value in data.items() if key in VERSION_WIRE and value is not None}
        other = data.get("otherContents")
        if other:
            if len(other) > 1:
                raise InvalidInput("otherContents holds one link: [{\"key\": <link type>, \"value\": <link>}].", field="otherContents")
            kwargs["link_type"], kwargs["link"] = other[0]["key"], other[0]["value"]
        if bool(kwargs.get("link")) != bool(kwargs.get("link_type")) and ("link" in kwargs or "link_type" in kwargs):
            raise InvalidInput("A link and its link type go together.", field="otherContents")
        if "customMetrics" in data and data["customMetrics"] is not None:
            kwargs["custom_metrics"] = data["customMetrics"]
        return kwargs

    def docs_kwargs(self) -> dict:
        data = self.validated_data
        return {VERSION_DOCS_WIRE[key]: value for key, value in data.items() if key in VERSION_DOCS_WIRE and value is not None}


# --- output -------------------------------------------------------------------------------------


def _user_label(user) -> str:
    return (user.name or user.email) if user is not None else ""


def artifact_output(artifact: VersionedArtifact) -> dict:
    latest = artifact.latest_version
    body = {
        "name": artifact.name,
        "orgName": artifact.org.name,
        "teamName": artifact.team.name if artifact.team_id else None,
        "displayName": artifact.display_name or artifact.name,
        "shortDescription": artifact.short_description,
        "description": artifact.description,
        "labels": list(artifact.labels or []),
        "logo": artifact.logo or None,
        "publisher": artifact.publisher,
        "builtBy": artifact.built_by,
        "ownerName": artifact.owner_name,
        "application": artifact.application,
        "framework": artifact.framework,
        "modelFormat": artifact.model_format,
        "precision": artifact.precision,
        "publicDatasetUsed": {
            "name": artifact.public_dataset_name,
            "link": artifact.public_dataset_link,
            "license": artifact.public_dataset_license,
        },
        "createdDate": ngc_datetime(artifact.created_at),
        "updatedDate": ngc_datetime(artifact.updated_at),
        "createdByUser": _user_label(artifact.created_by),
        "isPublic": False,
        "latestVersionIdStr": latest.version if latest else None,
        "latestVersionSizeInBytes": latest.total_size_bytes if latest else 0,
    }
    if artifact.kind == ArtifactKind.RESOURCE:
        body.update(
            trainingFramework=artifact.framework,
            advanced=artifact.advanced_guide,
            performance=artifact.performance,
            quickStartGuide=artifact.quick_start_guide,
            releaseNotes=artifact.release_notes,
            setup=artifact.setup_guide,
        )
    return body


def version_output(version: ArtifactVersion) -> dict:
    return {
        "versionId": version.version,
        "status": version.status,
        "failureReason": version.failure_reason or None,
        "totalFileCount": version.total_file_count,
        "totalSizeInBytes": version.total_size_bytes,
        "createdDate": ngc_datetime(version.created_at),
        "updatedDate": ngc_datetime(version.updated_at),
        "createdByUser": _user_label(version.created_by),
        "ownerName": version.owner_name,
        "description": version.description,
        "gpuModel": version.gpu_model,
        # NVIDIA's client parses these three with int()/float() and crashes on "": null when unset.
        "batchSize": version.batch_size or None,
        "numberOfEpochs": version.number_of_epochs or None,
        "accuracyReached": version.accuracy_reached or None,
        "memoryFootprint": version.memory_footprint,
        "isSigned": False,
        "storageVersion": "V2",
        "customMetrics": list(version.custom_metrics or []),
        "otherContents": [{"key": version.link_type, "value": version.link}] if version.link else [],
    }


class FileOutput(serializers.ModelSerializer):
    path = serializers.CharField()
    sizeInBytes = serializers.IntegerField(source="size_bytes")
    sha256 = serializers.CharField()
    createdDate = NgcDateTimeField(source="created_at")

    class Meta:
        model = ArtifactFile
        fields = ["path", "sizeInBytes", "sha256", "createdDate"]


def search_resource(artifact: VersionedArtifact) -> dict:
    """One hit of `/v2/search/…/resources/MODEL|RECIPE` (§5.5): the client flattens `attributes`."""
    latest = artifact.latest_version
    attributes = {
        "application": artifact.application,
        "framework": artifact.framework,
        "precision": artifact.precision,
        "format": artifact.model_format,
        "latestVersionIdStr": latest.version if latest else "",
        "latestVersionSizeInBytes": str(latest.total_size_bytes) if latest else "0",
    }
    return {
        "resourceId": artifact.resource_id,
        "resourceType": "MODEL" if artifact.kind == ArtifactKind.MODEL else "RECIPE",
        "name": artifact.name,
        "displayName": artifact.display_name or artifact.name,
        "orgName": artifact.org.name,
        "teamName": artifact.team.name if artifact.team_id else None,
        "description": artifact.short_description,
        "dateCreated": ngc_datetime(artifact.created_at),
        "dateModified": ngc_datetime(artifact.updated_at),
        "createdBy": _user_label(artifact.created_by),
        "labels": [{"key": "general", "values": list(artifact.labels or [])}] if artifact.labels else [],
        "attributes": [{"key": key, "value": value} for key, value in attributes.items()],
    }
