"""Versioned file artifacts: NGC models and resources share these tables, told apart by `kind`.

An artifact `<org>[/<team>]/<name>` has versions; a version has files, each a path pointing at a
content-addressed Blob (shared with containers, so identical bytes are stored once). Only an
UPLOAD_COMPLETE version may be an artifact's `latest_version`.
"""
from django.conf import settings
from django.core.validators import MaxLengthValidator, RegexValidator
from django.db import models
from django.db.models import Q

from accounts.roles import Service
from artifacts.core.models import ArtifactCore
from artifacts.versioned.paths import MAX_PATH_LENGTH

# A version is one URL path segment: SemVer fits ("1.0.0-rc.1+build.5"), so do "1" and "first-upload".
VERSION_PATTERN = r"^[A-Za-z0-9](?:[A-Za-z0-9._+-]{0,63})$"
version_validator = RegexValidator(
    VERSION_PATTERN,
    "Use 1-64 letters, digits, '.', '_', '+' or '-', starting with a letter or digit.",
)
sha256_hex_validator = RegexValidator(r"^[0-9a-f]{64}$", "A SHA-256 digest in lowercase hex.")


class ArtifactKind(models.TextChoices):
    """The URL segment; also picks the JSON keys (model*/recipe*) and the policy service."""

    MODEL = "models", "Model"
    RESOURCE = "resources", "Resource"


SERVICE_OF_KIND: dict[str, Service] = {ArtifactKind.MODEL: Service.MODEL, ArtifactKind.RESOURCE: Service.MODELSCRIPT}


class VersionStatus(models.TextChoices):
    UPLOAD_PENDING = "UPLOAD_PENDING"
    UPLOAD_COMPLETE = "UPLOAD_COMPLETE"
    UPLOAD_FAILED = "UPLOAD_FAILED"


class LinkType(models.TextChoices):
    NGC = "NGC"
    GITHUB = "Github"
    OTHER = "Other"


class VersionedArtifact(ArtifactCore):
    """A model or resource; written only by artifacts.versioned.services."""

    kind = models.CharField(max_length=16, choices=ArtifactKind.choices)
    short_description = models.CharField(max_length=1000, blank=True)
    # The overview is `description` here, NGC's spelling for models and resources.
    overview = None
    description = models.TextField(
        blank=True, validators=[MaxLengthValidator(100_000)], help_text="The overview, markdown."
    )
    owner_name = models.CharField(max_length=255, blank=True)
    # Canonical spellings ("Object Detection", "FP16"); artifacts.versioned.choices normalises input.
    application = models.CharField(max_length=128, blank=True)
    framework = models.CharField(max_length=128, blank=True)
    model_format = models.CharField(max_length=128, blank=True)
    precision = models.CharField(max_length=64, blank=True)
    public_dataset_name = models.CharField(max_length=255, blank=True)
    public_dataset_link = models.CharField(max_length=1000, blank=True)
    public_dataset_license = models.CharField(max_length=255, blank=True)
    # Resource documentation tabs (guide 5.4), markdown.
    advanced_guide = models.TextField(blank=True, validators=[MaxLengthValidator(100_000)])
    performance = models.TextField(blank=True, validators=[MaxLengthValidator(100_000)])
    quick_start_guide = models.TextField(blank=True, validators=[MaxLengthValidator(100_000)])
    release_notes = models.TextField(blank=True, validators=[MaxLengthValidator(100_000)])
    setup_guide = models.TextField(blank=True, validators=[MaxLengthValidator(100_000)])
    latest_version = models.ForeignKey(
        "ArtifactVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The UPLOAD_COMPLETE version downloads use when none is named.",
    )

    class Meta:
        ordering = ["org__name", "team__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "org", "team", "name"], condition=Q(team__isnull=False),
                name="versioned_artifact_unique_name_in_team",
            ),
            models.UniqueConstraint(
                fields=["kind", "org", "name"], condition=Q(team__isnull=True),
                name="versioned_artifact_unique_name_in_org",
            ),
            models.CheckConstraint(condition=Q(kind__in=ArtifactKind.values), name="versioned_artifact_kind_valid"),
        ]

    @property
    def service(self) -> str:
        """MODEL for models, MODELSCRIPT for resources."""
        return SERVICE_OF_KIND[self.kind]


class ArtifactVersion(models.Model):
    """One version of a model or resource and its metadata; files arrive through the transfer protocol."""

    artifact = models.ForeignKey(VersionedArtifact, on_delete=models.CASCADE, related_name="versions")
    version = models.CharField(max_length=64, validators=[version_validator])
    status = models.CharField(max_length=32, choices=VersionStatus.choices, default=VersionStatus.UPLOAD_PENDING)
    failure_reason = models.TextField(blank=True)
    description = models.TextField(blank=True, validators=[MaxLengthValidator(100_000)])
    accuracy_reached = models.CharField(max_length=64, blank=True)
    batch_size = models.CharField(max_length=64, blank=True)
    gpu_model = models.CharField(max_length=128, blank=True)
    memory_footprint = models.CharField(max_length=64, blank=True)
    number_of_epochs = models.CharField(max_length=64, blank=True)
    link = models.CharField(max_length=1000, blank=True)
    link_type = models.CharField(max_length=16, choices=LinkType.choices, blank=True)
    owner_name = models.CharField(max_length=255, blank=True)
    custom_metrics = models.JSONField(
        default=list, blank=True, help_text='[{"name": ..., "attributes": [{"key": ..., "value": ...}]}], order kept.'
    )
    total_file_count = models.IntegerField(default=0)
    total_size_bytes = models.BigIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["artifact", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["artifact", "version"], name="artifact_version_unique"),
            models.CheckConstraint(
                condition=Q(total_file_count__gte=0) & Q(total_size_bytes__gte=0), name="artifact_version_totals_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.artifact}:{self.version}"

    @property
    def is_complete(self) -> bool:
        return self.status == VersionStatus.UPLOAD_COMPLETE


class ArtifactFile(models.Model):
    """A file of a version: its relative path and the blob holding its bytes."""

    version = models.ForeignKey(ArtifactVersion, on_delete=models.CASCADE, related_name="files")
    path = models.CharField(max_length=MAX_PATH_LENGTH)
    size_bytes = models.BigIntegerField()
    sha256 = models.CharField(max_length=64, validators=[sha256_hex_validator])
    blob = models.ForeignKey("artifacts.Blob", on_delete=models.PROTECT, related_name="artifact_files")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["version", "path"]
        constraints = [
            models.UniqueConstraint(fields=["version", "path"], name="artifact_file_unique_path"),
            models.CheckConstraint(condition=Q(size_bytes__gte=0), name="artifact_file_size_non_negative"),
        ]

    def __str__(self) -> str:
        return self.path


__all__ = ["ArtifactFile", "ArtifactKind", "ArtifactVersion", "LinkType", "VersionStatus", "VersionedArtifact"]
