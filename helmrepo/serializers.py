"""Wire shapes of Helm charts in the NGC API (reference/ngc-api.md §5.6, guide 6.5).

Charts answer `artifact`, `artifactVersion`, `artifactVersions[]` and `artifactFiles[]`. Unlike
models, a chart's version ids are strings in `id` and `latestVersionId` (NVIDIA's client reads
them so); `latestVersionIdStr` is repeated for search-style readers.
"""
from rest_framework import serializers

from accounts.serializers import ngc_datetime
from helmrepo.models import Chart, ChartVersion

# NGC's client sends null for every option not given; the guide's PATCH body (6.5.1) has these keys.
CHART_WIRE = {
    "displayName": "display_name", "shortDescription": "short_description", "description": "overview",
    "logo": "logo", "publisher": "publisher", "builtBy": "built_by",
}


def _text(**kwargs):
    return serializers.CharField(required=False, allow_blank=True, allow_null=True, trim_whitespace=False, **kwargs)


class ChartAttributeInput(serializers.Serializer):
    key = serializers.CharField(allow_blank=True)
    value = serializers.CharField(allow_blank=True)


class ChartInput(serializers.Serializer):
    """The create body of `ngc registry chart create` and the PATCH body of guide 6.5.1 (`attributes`
    is accepted and ignored: charts have no custom attributes here)."""

    name = serializers.CharField(required=False, max_length=64)
    displayName = _text(max_length=255)
    shortDescription = _text(max_length=1000)
    description = _text()
    logo = _text(max_length=1000)
    publisher = _text(max_length=255)
    builtBy = _text(max_length=255)
    labelsV2 = serializers.ListField(child=serializers.CharField(allow_blank=True), required=False, allow_null=True)
    labels = serializers.ListField(child=serializers.CharField(allow_blank=True), required=False, allow_null=True)
    attributes = ChartAttributeInput(many=True, required=False, allow_null=True)

    def service_kwargs(self) -> dict:
        """Keyword arguments for chart_create/chart_update: the fields present and not null."""
        data = self.validated_data
        kwargs = {CHART_WIRE[key]: value for key, value in data.items() if key in CHART_WIRE and value is not None}
        labels = data.get("labelsV2") if data.get("labelsV2") is not None else data.get("labels")
        if labels is not None:
            kwargs["labels"] = [label.strip() for label in labels if label.strip()]
        return kwargs


def _user_label(user) -> str:
    return (user.name or user.email) if user is not None else ""


def chart_output(chart: Chart) -> dict:
    latest = chart.latest_version
    return {
        "name": chart.name,
        "orgName": chart.org.name,
        "teamName": chart.team.name if chart.team_id else None,
        "displayName": chart.display_name or chart.name,
        "shortDescription": chart.short_description,
        "description": chart.overview,
        "labels": list(chart.labels or []),
        "logo": chart.logo or None,
        "publisher": chart.publisher,
        "builtBy": chart.built_by,
        "createdDate": ngc_datetime(chart.created_at),
        "updatedDate": ngc_datetime(chart.updated_at),
        "createdByUser": _user_label(chart.created_by),
        "isPublic": False,
        "isReadOnly": False,
        "latestVersionId": latest.version if latest else None,
        "latestVersionIdStr": latest.version if latest else None,
        "latestVersionSizeInBytes": latest.size if latest else None,
    }


def version_output(version: ChartVersion) -> dict:
    return {
        "id": version.version,
        "versionId": version.version,
        "status": "UPLOAD_COMPLETE",  # a version exists only once its package is stored
        "totalFileCount": len(version.files or []),
        "totalSizeInBytes": version.size,
        "createdDate": ngc_datetime(version.created_at),
        "updatedDate": ngc_datetime(version.created_at),
        "createdByUser": _user_label(version.created_by),
        "appVersion": version.app_version,
        "description": version.description,
        "digest": f"sha256:{version.digest}",
        "malwareScanStatus": "NOT_SCANNED",
    }


def file_output(row: dict) -> dict:
    return {"path": row["path"], "sizeInBytes": int(row.get("size") or 0)}


def search_resource(chart: Chart) -> dict:
    """One hit of `/v2/search/…/resources/HELM_CHART` (§5.5): the client reads the latest version
    and its size from `attributes`."""
    latest = chart.latest_version
    attributes = {
        "latestVersionIdStr": latest.version if latest else "",
        "latestVersionSizeInBytes": str(latest.size) if latest else "0",
    }
    return {
        "resourceId": chart.resource_id,
        "resourceType": "HELM_CHART",
        "name": chart.name,
        "displayName": chart.display_name or chart.name,
        "orgName": chart.org.name,
        "teamName": chart.team.name if chart.team_id else None,
        "description": chart.short_description,
        "dateCreated": ngc_datetime(chart.created_at),
        "dateModified": ngc_datetime(chart.updated_at),
        "createdBy": _user_label(chart.created_by),
        "labels": [{"key": "general", "values": list(chart.labels or [])}] if chart.labels else [],
        "attributes": [{"key": key, "value": value} for key, value in attributes.items()],
    }
