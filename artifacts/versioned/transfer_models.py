"""Multipart transfers in progress (NGC upload protocol V2, reference/ngc-api.md §5.3).

One row per file being uploaded into a version: the client declared its path, size and sha256,
got one URL per part, and PUTs the parts (any order, in parallel, retried at will): through our
capability URLs into `uploads/<id>` of the local blob store at their offsets, or with an S3 bucket
straight into the bucket's multipart upload of that key (presigned UploadPart URLs). Complete hashes the file once and makes it
a blob; the row then remembers that blob until the commit links it into the version as a file.
Registered in app "artifacts" by artifacts/models.py; written only by artifacts.versioned.transfers (multipart, finalize).
"""
import math
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from artifacts.versioned.paths import MAX_PATH_LENGTH


class MultipartState(models.TextChoices):
    OPEN = "OPEN"  # parts may arrive
    COMPLETE = "COMPLETE"  # verified; `blob` holds the bytes


class MultipartUpload(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    version = models.ForeignKey("artifacts.ArtifactVersion", on_delete=models.CASCADE, related_name="multipart_uploads")
    path = models.CharField(max_length=MAX_PATH_LENGTH)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64, blank=True, help_text="Declared at start (hex); verified at complete.")
    part_size = models.BigIntegerField()
    streamed_sha256 = models.CharField(
        max_length=64, blank=True,
        help_text="A single-part file's sha256 (hex), hashed while its one part was received whole from offset 0 "
        "under the upload's exclusive lock; cleared before any re-send writes. Empty: complete re-reads the file.",
    )
    received_parts = models.JSONField(default=list, blank=True, help_text="1-based numbers of the parts fully received.")
    s3_upload_id = models.CharField(
        max_length=1024, blank=True,
        help_text="The S3 multipart upload (UploadId) assembling `uploads/<id>` when the blob store is a bucket: "
        "clients PUT the parts straight to it (artifacts.versioned.transfers.multipart_s3). Empty: parts come through the app.",
    )
    state = models.CharField(max_length=16, choices=MultipartState.choices, default=MultipartState.OPEN)
    blob = models.ForeignKey("artifacts.Blob", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(size__gte=0) & Q(part_size__gt=0), name="multipart_upload_sizes_valid"),
            models.CheckConstraint(
                condition=Q(state="OPEN") | Q(blob__isnull=False), name="multipart_upload_complete_has_blob"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version}:{self.path} ({self.pk})"

    @property
    def part_count(self) -> int:
        """At least one part, even for an empty file (the client always PUTs one)."""
        return max(1, math.ceil(self.size / self.part_size))

    def part_range(self, number: int) -> tuple[int, int]:
        """(offset, length) of 1-based part `number`."""
        offset = (number - 1) * self.part_size
        return offset, max(0, min(self.part_size, self.size - offset))

    @property
    def missing_parts(self) -> list[int]:
        received = set(self.received_parts)
        return [number for number in range(1, self.part_count + 1) if number not in received]

__all__ = ["MultipartState", "MultipartUpload"]
