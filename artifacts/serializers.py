"""Input and output shapes of the NGC API's container endpoints (reference/ngc-api.md §5.5, §5.7).

Field names follow NVIDIA's client (`registry.data.registry.Repository`, `RepositoryImageDetails`,
`MetaImageDetails`). On the wire `shortDescription` is the one-liner (model `description`) and
`description` is the markdown overview (model `overview`). Output serializers only rename and
format; sizes and platforms were attached by the selectors (`latest_size`, `size`, `platforms`).
"""
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.serializers import NgcDateTimeField
from artifacts.core.serializers import search_hit, wire_labels


class StrictCharField(serializers.CharField):
    """A string and nothing else: DRF's CharField would quietly turn 5 or true into "5", "True"."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


def _text(**kwargs):
    return StrictCharField(required=False, allow_blank=True, trim_whitespace=False, **kwargs)


class RepositoryMetadataInput(serializers.Serializer):
    """`PATCH /v2/{ot}/repos/{repo}` (RepositoryInfoUpdateRequest). Fields the server does not keep
    (categories, multinode, …) are ignored, as NVIDIA's client sends some of them."""

    displayName = _text()
    shortDescription = _text()
    description = _text()
    labels = serializers.ListField(child=StrictCharField(allow_blank=True, trim_whitespace=False), required=False)
    labelsV2 = serializers.ListField(child=StrictCharField(allow_blank=True, trim_whitespace=False), required=False)
    logo = _text()
    publisher = _text()
    builtBy = _text()
    isPublic = StrictBooleanField(required=False)

    WIRE_TO_MODEL = {
        "displayName": "display_name", "shortDescription": "description", "description": "overview",
        "labels": "labels", "logo": "logo", "publisher": "publisher", "builtBy": "built_by", "isPublic": "is_public",
    }

    def service_kwargs(self) -> dict:
        kwargs = {self.WIRE_TO_MODEL[key]: value for key, value in self.validated_data.items() if key in self.WIRE_TO_MODEL}
        if wire_labels(self.validated_data) is not None:
            kwargs["labels"] = wire_labels(self.validated_data)
        return kwargs


class RepositoryCreateInput(RepositoryMetadataInput):
    """`POST /v2/{ot}/repos` (RepositoryCreateRequest): the repository's name within the space."""

    name = StrictCharField(max_length=255)


class PlatformOutput(serializers.Serializer):
    """One entry of `architectureVariants` (ImageArchitectureVariant)."""

    architecture = serializers.CharField()
    os = serializers.CharField()
    variant = serializers.CharField()
    digest = serializers.CharField()


def architecture_variants(tag) -> list[dict]:
    """A single image's one platform carries the manifest's own digest; an index's carry their children's."""
    return [
        {"architecture": p.architecture, "os": p.os, "variant": p.variant, "digest": p.digest or tag.manifest.digest}
        for p in tag.platforms
    ]


class ImageOutput(serializers.Serializer):
    """A tag with its image (RepositoryImageDetails / MetaImageDetails)."""

    tag = serializers.CharField(source="name")
    digest = serializers.CharField(source="manifest.digest")
    mediaType = serializers.CharField(source="manifest.media_type")
    size = serializers.IntegerField()
    updatedDate = NgcDateTimeField(source="updated_at")
    pushedDate = NgcDateTimeField(source="updated_at")
    isMultiArchitecture = serializers.SerializerMethodField()
    architectureVariants = serializers.SerializerMethodField()

    def get_isMultiArchitecture(self, tag) -> bool:
        return len(tag.platforms) > 1

    def get_architectureVariants(self, tag) -> list[dict]:
        return architecture_variants(tag)


class RepositoryListOutput(serializers.Serializer):
    """A row of `GET /v2/{ot}/repos` (from selectors.container_repositories + attach_latest_sizes)."""

    name = serializers.CharField(source="path")
    namespace = serializers.SerializerMethodField()
    resourceId = serializers.CharField(source="name")
    displayName = serializers.CharField(source="display_name")
    shortDescription = serializers.CharField(source="description")
    labels = serializers.ListField(child=serializers.CharField())
    logo = serializers.CharField()
    publisher = serializers.CharField()
    builtBy = serializers.CharField(source="built_by")
    isPublic = serializers.BooleanField(source="is_public")
    latestTag = serializers.CharField(source="latest_tag_name", allow_null=True)
    latestImageSize = serializers.IntegerField(source="latest_size", allow_null=True)
    createdDate = NgcDateTimeField(source="created_at")
    updatedDate = NgcDateTimeField(source="updated_at")

    def get_namespace(self, repository) -> str:
        return f"{repository.org.name}/{repository.team.name}" if repository.team_id else repository.org.name


class RepositoryDetailOutput(RepositoryListOutput):
    """`GET /v2/{ot}/repos/{repo}` (Repository): the list row's fields, the overview, and every tag
    with its digest, size and platforms. Context: `tags` (from selectors.describe_tags) and
    `latest` (one of them, or None)."""

    description = serializers.CharField(source="overview")
    latestTag = serializers.SerializerMethodField()
    latestImageSize = serializers.SerializerMethodField()
    latestArchitectureVariants = serializers.SerializerMethodField()
    isMultiArchitecture = serializers.SerializerMethodField()
    tags = serializers.SerializerMethodField()
    tagDetails = serializers.SerializerMethodField()

    def get_latestTag(self, repository) -> str | None:
        latest = self.context["latest"]
        return latest.name if latest else None

    def get_latestImageSize(self, repository) -> int | None:
        latest = self.context["latest"]
        return latest.size if latest else None

    @extend_schema_field(PlatformOutput(many=True))
    def get_latestArchitectureVariants(self, repository) -> list[dict]:
        latest = self.context["latest"]
        return architecture_variants(latest) if latest else []

    def get_isMultiArchitecture(self, repository) -> bool:
        return len(self.get_latestArchitectureVariants(repository)) > 1

    def get_tags(self, repository) -> list[str]:
        return [tag.name for tag in self.context["tags"]]

    @extend_schema_field(ImageOutput(many=True))
    def get_tagDetails(self, repository) -> list[dict]:
        return ImageOutput(self.context["tags"], many=True).data


class RepositoryBody(RepositoryDetailOutput):
    """What the repository endpoints answer (the OpenAPI schema): `ok(**RepositoryDetailOutput(...).data)`."""

    requestStatus = serializers.DictField()


def search_resource(repository) -> dict:
    """A CONTAINER hit of `/v2/search/...`; the client flattens `attributes` into Repository
    fields (`size` becomes `latestImageSize`)."""
    return search_hit(
        repository, resource_type="CONTAINER", name=repository.path, description=repository.description,
        shortDescription=repository.description, isPublic=repository.is_public, guestAccess=repository.is_public,
        attributes={"latestTag": repository.latest_tag_name or "", "size": str(repository.latest_size or 0)},
    )
