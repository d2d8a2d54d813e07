"""Wire shapes of Helm charts in the NGC API (reference/ngc-api.md §5.6, guide 6.5).

Charts answer `artifact`, `artifactVersion`, `artifactVersions[]` and `artifactFiles[]`. Unlike
models, a chart's version ids are strings in `id` and `latestVersionId` (NVIDIA's client reads
them so); `latestVersionIdStr` is repeated for search-style readers.
"""
from rest_framework import serializers

from accounts.serializers import NgcDateTimeField
from artifacts.core.serializers import ArtifactCoreOutput, CreatedByUserField, optional_text, search_hit, user_label, wire_labels
from registry_portal.api import pagination_schema, wrapped_schema
from helmrepo.models import Chart, ChartVersion

# NGC's client sends null for every option not given; the guide's PATCH body (6.5.1) has these keys.
CHART_WIRE = {
    "displayName": "display_name", "shortDescription": "short_description", "description": "overview",
    "logo": "logo", "publisher": "publisher", "builtBy": "built_by",
}


class ChartAttributeInput(serializers.Serializer):
    key = serializers.CharField(allow_blank=True)
    value = serializers.CharField(allow_blank=True)


class ChartInput(serializers.Serializer):
    """The create body of `ngc registry chart create` and the PATCH body of guide 6.5.1 (`attributes`
    is accepted and ignored: charts have no custom attributes here)."""

    name = serializers.CharField(required=False, max_length=64)
    displayName = optional_text(max_length=255)
    shortDescription = optional_text(max_length=1000)
    description = optional_text()
    logo = optional_text(max_length=1000)
    publisher = optional_text(max_length=255)
    builtBy = optional_text(max_length=255)
    labelsV2 = serializers.ListField(child=serializers.CharField(allow_blank=True), required=False, allow_null=True)
    labels = serializers.ListField(child=serializers.CharField(allow_blank=True), required=False, allow_null=True)
    attributes = ChartAttributeInput(many=True, required=False, allow_null=True)

    def service_kwargs(self) -> dict:
        """Keyword arguments for chart_create/chart_update: the fields present and not null."""
        data = self.validated_data
        kwargs = {CHART_WIRE[key]: value for key, value in data.items() if key in CHART_WIRE and value is not None}
        if wire_labels(data) is not None:
            kwargs["labels"] = wire_labels(data)
        return kwargs


class ChartOutput(ArtifactCoreOutput):
    """A chart (`artifact`). Its version ids are strings in `latestVersionId` too."""

    description = serializers.CharField(source="overview")
    isReadOnly = serializers.SerializerMethodField()
    latestVersionId = serializers.CharField(source="latest_version.version", allow_null=True)
    latestVersionIdStr = serializers.CharField(source="latest_version.version", allow_null=True)
    latestVersionSizeInBytes = serializers.IntegerField(source="latest_version.size", allow_null=True)

    def get_isReadOnly(self, chart: Chart) -> bool:
        return False


class ChartVersionOutput(serializers.Serializer):
    """A chart version (`artifactVersion`): a version exists only once its package is stored."""

    id = serializers.CharField(source="version")
    versionId = serializers.CharField(source="version")
    status = serializers.SerializerMethodField()
    totalFileCount = serializers.SerializerMethodField()
    totalSizeInBytes = serializers.IntegerField(source="size")
    createdDate = NgcDateTimeField(source="created_at")
    updatedDate = NgcDateTimeField(source="created_at")
    createdByUser = CreatedByUserField()
    appVersion = serializers.CharField(source="app_version")
    description = serializers.CharField()
    digest = serializers.SerializerMethodField()
    malwareScanStatus = serializers.SerializerMethodField()

    def get_status(self, version: ChartVersion) -> str:
        return "UPLOAD_COMPLETE"

    def get_totalFileCount(self, version: ChartVersion) -> int:
        return len(version.files or [])

    def get_digest(self, version: ChartVersion) -> str:
        return f"sha256:{version.digest}"

    def get_malwareScanStatus(self, version: ChartVersion) -> str:
        return "NOT_SCANNED"


class ChartFileOutput(serializers.Serializer):
    """A member of the package, from the listing stored at push time (`{"path", "size"}` rows)."""

    path = serializers.CharField()
    sizeInBytes = serializers.SerializerMethodField()

    def get_sizeInBytes(self, row: dict) -> int:
        return int(row.get("size") or 0)


CHART_BODY = wrapped_schema("ChartBody", "artifact", ChartOutput)
CHART_VERSION_BODY = wrapped_schema("ChartVersionBody", "artifactVersion", ChartVersionOutput)
CHART_VERSIONS_BODY = pagination_schema("ChartVersionList", "artifactVersions", ChartVersionOutput, artifact=ChartOutput())
CHART_FILES_BODY = pagination_schema("ChartFileList", "artifactFiles", ChartFileOutput)


def search_resource(chart: Chart) -> dict:
    """One hit of `/v2/search/…/resources/HELM_CHART` (§5.5): the client reads the latest version
    and its size from `attributes`."""
    latest = chart.latest_version
    return search_hit(
        chart, resource_type="HELM_CHART", name=chart.name, description=chart.short_description,
        createdBy=user_label(chart.created_by),
        attributes={
            "latestVersionIdStr": latest.version if latest else "",
            "latestVersionSizeInBytes": str(latest.size) if latest else "0",
        },
    )
