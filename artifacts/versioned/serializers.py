"""Wire shapes of models and resources (reference/ngc-api.md §5.2, §5.5 and its Addendum).

Input serializers turn NGC's camelCase bodies into service keyword arguments; output functions
build the response objects. Models answer `model`/`modelVersion…`, resources `recipe`/`recipeVersion…`
with `trainingFramework` for the framework. Only string ids (`versionId`, `latestVersionIdStr`):
NVIDIA's client parses the legacy integer ids as int.
"""
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from registry_portal.api import PAGINATION_INFO, ok_schema
from registry_portal.errors import InvalidInput
from accounts.serializers import NgcDateTimeField
from artifacts.core.serializers import (
    ArtifactCoreOutput,
    BlankAsNullCharField,
    CreatedByUserField,
    optional_text,
    search_hit,
    user_label,
    wire_labels,
)
from artifacts.versioned.models import ArtifactFile, ArtifactKind, ArtifactVersion, VersionedArtifact

JSON_KEYS = {
    ArtifactKind.MODEL: {"one": "model", "version": "modelVersion", "versions": "modelVersions", "files": "modelFiles"},
    ArtifactKind.RESOURCE: {
        "one": "recipe", "version": "recipeVersion", "versions": "recipeVersions", "files": "recipeFiles",
    },
}


def json_key(kind: str, what: str) -> str:
    return JSON_KEYS[kind][what]


class PublicDatasetInput(serializers.Serializer):
    name = optional_text()
    link = optional_text()
    license = optional_text()


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
    displayName = optional_text()
    shortDescription = optional_text()
    description = optional_text()
    logo = optional_text()
    publisher = optional_text()
    builtBy = optional_text()
    ownerName = optional_text()
    application = optional_text()
    framework = optional_text()
    trainingFramework = optional_text()
    modelFormat = optional_text()
    precision = optional_text()
    advanced = optional_text()
    performance = optional_text()
    quickStartGuide = optional_text()
    releaseNotes = optional_text()
    setup = optional_text()
    labelsV2 = serializers.ListField(child=serializers.CharField(allow_blank=True), required=False, allow_null=True)
    labels = serializers.ListField(child=serializers.CharField(allow_blank=True), required=False, allow_null=True)
    publicDatasetUsed = PublicDatasetInput(required=False, allow_null=True)

    def service_kwargs(self) -> dict:
        """Keyword arguments for artifact_create/update: only fields present and not null (the CLI
        sends null for every option not given)."""
        data = self.validated_data
        kwargs = {ARTIFACT_WIRE[key]: value for key, value in data.items() if key in ARTIFACT_WIRE and value is not None}
        if wire_labels(data) is not None:
            kwargs["labels"] = wire_labels(data)
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
    description = optional_text()
    accuracyReached = optional_text()
    batchSize = optional_text()
    gpuModel = optional_text()
    memoryFootprint = optional_text()
    numberOfEpochs = optional_text()
    ownerName = optional_text()
    link = optional_text()
    linkType = optional_text()
    otherContents = KeyValueInput(many=True, required=False, allow_null=True)
    customMetrics = serializers.JSONField(required=False, allow_null=True)
    releaseNotes = optional_text()
    performance = optional_text()
    quickStartGuide = optional_text()
    setup = optional_text()
    advanced = optional_text()
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


class PublicDatasetOutput(serializers.Serializer):
    name = serializers.CharField(source="public_dataset_name")
    link = serializers.CharField(source="public_dataset_link")
    license = serializers.CharField(source="public_dataset_license")


RESOURCE_ONLY = ("trainingFramework", "advanced", "performance", "quickStartGuide", "releaseNotes", "setup")


class ArtifactOutput(ArtifactCoreOutput):
    """A model (`model`) or resource (`recipe`); resources add their framework and documentation tabs."""

    description = serializers.CharField()
    ownerName = serializers.CharField(source="owner_name")
    application = serializers.CharField()
    framework = serializers.CharField()
    modelFormat = serializers.CharField(source="model_format")
    precision = serializers.CharField()
    publicDatasetUsed = PublicDatasetOutput(source="*")
    latestVersionIdStr = serializers.CharField(source="latest_version.version", allow_null=True)
    latestVersionSizeInBytes = serializers.SerializerMethodField()
    trainingFramework = serializers.CharField(source="framework", required=False)
    advanced = serializers.CharField(source="advanced_guide", required=False)
    performance = serializers.CharField(required=False)
    quickStartGuide = serializers.CharField(source="quick_start_guide", required=False)
    releaseNotes = serializers.CharField(source="release_notes", required=False)
    setup = serializers.CharField(source="setup_guide", required=False)

    def get_latestVersionSizeInBytes(self, artifact: VersionedArtifact) -> int:
        return artifact.latest_version.total_size_bytes if artifact.latest_version else 0

    def to_representation(self, artifact: VersionedArtifact) -> dict:
        body = super().to_representation(artifact)
        if artifact.kind != ArtifactKind.RESOURCE:
            for key in RESOURCE_ONLY:
                del body[key]
        return body


class KeyValueOutput(serializers.Serializer):
    key = serializers.CharField()
    value = serializers.CharField()


class MetricsTableOutput(serializers.Serializer):
    name = serializers.CharField()
    attributes = KeyValueOutput(many=True)


class VersionOutput(serializers.Serializer):
    """A version (`modelVersion` / `recipeVersion`)."""

    versionId = serializers.CharField(source="version")
    status = serializers.CharField()
    failureReason = BlankAsNullCharField(source="failure_reason")
    totalFileCount = serializers.IntegerField(source="total_file_count")
    totalSizeInBytes = serializers.IntegerField(source="total_size_bytes")
    createdDate = NgcDateTimeField(source="created_at")
    updatedDate = NgcDateTimeField(source="updated_at")
    createdByUser = CreatedByUserField()
    ownerName = serializers.CharField(source="owner_name")
    description = serializers.CharField()
    gpuModel = serializers.CharField(source="gpu_model")
    # NVIDIA's client parses these three with int()/float() and crashes on "": null when unset.
    batchSize = BlankAsNullCharField(source="batch_size")
    numberOfEpochs = BlankAsNullCharField(source="number_of_epochs")
    accuracyReached = BlankAsNullCharField(source="accuracy_reached")
    memoryFootprint = serializers.CharField(source="memory_footprint")
    isSigned = serializers.SerializerMethodField()
    storageVersion = serializers.SerializerMethodField()
    customMetrics = MetricsTableOutput(source="custom_metrics", many=True)
    otherContents = serializers.SerializerMethodField()

    def get_isSigned(self, version: ArtifactVersion) -> bool:
        return False

    def get_storageVersion(self, version: ArtifactVersion) -> str:
        return "V2"

    @extend_schema_field(KeyValueOutput(many=True))
    def get_otherContents(self, version: ArtifactVersion) -> list[dict]:
        return [{"key": version.link_type, "value": version.link}] if version.link else []


class FileOutput(serializers.ModelSerializer):
    path = serializers.CharField()
    sizeInBytes = serializers.IntegerField(source="size_bytes")
    sha256 = serializers.CharField()
    createdDate = NgcDateTimeField(source="created_at")

    class Meta:
        model = ArtifactFile
        fields = ["path", "sizeInBytes", "sha256", "createdDate"]


def _by_kind(what: str, item, **kwargs) -> dict:
    """OpenAPI fields `{model…: item, recipe…: item}`, neither required: one operation serves both kinds."""
    return {JSON_KEYS[kind][what]: item(required=False, **kwargs) for kind in ArtifactKind}


ARTIFACT_BODY = ok_schema("VersionedArtifactBody", _by_kind("one", ArtifactOutput))
VERSION_BODY = ok_schema("ArtifactVersionBody", _by_kind("version", VersionOutput))
VERSIONS_BODY = ok_schema(
    "ArtifactVersionList",
    {**_by_kind("one", ArtifactOutput), **_by_kind("versions", VersionOutput, many=True), "paginationInfo": PAGINATION_INFO},
)
FILES_BODY = ok_schema("ArtifactFileList", {**_by_kind("files", FileOutput, many=True), "paginationInfo": PAGINATION_INFO})


def search_resource(artifact: VersionedArtifact) -> dict:
    """One hit of `/v2/search/…/resources/MODEL|RECIPE` (§5.5)."""
    latest = artifact.latest_version
    return search_hit(
        artifact, resource_type="MODEL" if artifact.kind == ArtifactKind.MODEL else "RECIPE", name=artifact.name,
        description=artifact.short_description, createdBy=user_label(artifact.created_by),
        attributes={
            "application": artifact.application,
            "framework": artifact.framework,
            "precision": artifact.precision,
            "format": artifact.model_format,
            "latestVersionIdStr": latest.version if latest else "",
            "latestVersionSizeInBytes": str(latest.total_size_bytes) if latest else "0",
        },
    )
