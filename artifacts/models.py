"""Artifact data: the content-addressed blobs every kind shares, and container repositories.

Invariants are database constraints: one row per digest, one repository per name, one tag name
per repository, one manifest per digest per repository, and links that cannot dangle.
"""
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.roles import Service
from artifacts.core.models import ArtifactCore


class Blob(models.Model):
    """Bytes in the blob store, once per digest. `last_linked_at` guards fresh blobs from GC."""

    digest = models.CharField(max_length=200, unique=True)
    size = models.BigIntegerField()
    media_type = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_linked_at = models.DateTimeField(auto_now_add=True, db_index=True)
    verified_at = models.DateTimeField(
        null=True, blank=True,
        help_text="When these stored bytes were last hashed and found to match `digest` (a multipart complete that "
        "moved them into the store, or a finalisation that re-hashed them). Set: finalisation checks existence and "
        "size only; empty: it re-hashes.",
    )

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(size__gte=0), name="blob_size_non_negative")]

    def __str__(self) -> str:
        return self.digest



class Logo(models.Model):
    """An uploaded artifact logo (artifacts.logos): its blob and the media type sniffed from its bytes."""

    digest = models.CharField(max_length=200, unique=True)
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="+")
    media_type = models.CharField(max_length=50)
    created_at = models.DateTimeField(auto_now_add=True)


class Repository(ArtifactCore):
    """A container repository `<org>[/<team>]/<path>`; created on first push."""

    name = models.CharField(max_length=255, unique=True, help_text="The full registry name, e.g. acme/alpha/app.")
    path = models.CharField(max_length=255, help_text="The name within its space.")
    is_public = models.BooleanField(default=False, help_text="Unlocked: anyone may pull, without an API key.")
    # Metadata (guide 3.5, `ngc registry image update`); written only by artifacts.services.repository_update.
    # Wire names differ: NGC's `shortDescription` (--desc) is `description`, its `description` (--overview) is `overview`.
    description = models.TextField(blank=True, max_length=1000, help_text="The one-line short description.")
    latest_tag = models.ForeignKey(
        "Tag", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Pinned with set-latest; when empty the latest tag is the one pushed last.",
    )
    blobs = models.ManyToManyField(Blob, through="RepositoryBlob", related_name="repositories")

    class Meta:
        verbose_name_plural = "repositories"
        ordering = ["name"]

    @property
    def service(self) -> str:
        return Service.CONTAINER

    @property
    def resource_id(self) -> str:
        """The full registry name already is `org/[team/]path`."""
        return self.name


class RepositoryBlob(models.Model):
    """A blob made available in a repository (uploaded or mounted there, or referenced by its manifests)."""

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE)
    blob = models.ForeignKey(Blob, on_delete=models.CASCADE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["repository", "blob"], name="repository_blob_unique")]


class Manifest(models.Model):
    """A manifest or index pushed to a repository; its exact bytes are the blob of the same digest."""

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="manifests")
    digest = models.CharField(max_length=200)
    media_type = models.CharField(max_length=255)
    size = models.BigIntegerField()
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="as_manifest")
    artifact_type = models.CharField(max_length=255, blank=True)
    subject_digest = models.CharField(max_length=200, blank=True, db_index=True)
    annotations = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    layers = models.ManyToManyField(Blob, through="ManifestBlob", related_name="manifests")
    children = models.ManyToManyField("self", through="ManifestChild", symmetrical=False, related_name="parents")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["repository", "digest"], name="manifest_digest_unique_per_repository")]

    def __str__(self) -> str:
        return f"{self.repository.name}@{self.digest}"


class ManifestBlob(models.Model):
    """A blob (config or layer) that a manifest references; PROTECT keeps GC from removing it."""

    manifest = models.ForeignKey(Manifest, on_delete=models.CASCADE)
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["manifest", "blob"], name="manifest_blob_unique")]


class ManifestChild(models.Model):
    """An index's (manifest list's) child manifest; a child cannot be deleted while referenced."""

    index = models.ForeignKey(Manifest, on_delete=models.CASCADE, related_name="child_links")
    child = models.ForeignKey(Manifest, on_delete=models.PROTECT, related_name="parent_links")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["index", "child"], name="manifest_child_unique")]


class Tag(models.Model):
    # No index of its own: tag_unique_per_repository leads with it and serves every lookup by repository.
    # perf: with a second one, the planner of a freshly written table (no statistics yet) listed tags
    # through it and sorted them, 0.74 ms where the unique index reads them in order in 0.33 (docs/performance.md).
    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="tags", db_index=False)
    name = models.CharField(max_length=128)
    manifest = models.ForeignKey(Manifest, on_delete=models.CASCADE, related_name="tags")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["repository", "name"], name="tag_unique_per_repository"),
            models.CheckConstraint(condition=Q(name__regex=r"^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$"), name="tag_name_grammar"),
        ]

    def __str__(self) -> str:
        return f"{self.repository.name}:{self.name}"


class UploadSession(models.Model):
    """Bytes of one blob upload in progress: the file under uploads/<id> holds at least `offset`
    bytes, and those are the upload (anything past them is cut by the next writer); `object_state`
    holds the running sha256 over them (and on S3 where they are). One request writes at a time
    (artifacts.blobs.uploads.upload_writer_lock); it saves both every few MiB while bytes arrive."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="upload_sessions")
    offset = models.BigIntegerField(default=0)
    generation = models.BigIntegerField(
        default=0,
        help_text="Bumped with every save of `offset`: each save is a compare-and-set on the generation the request "
        "read, so a request whose session was saved or cancelled by another meanwhile stops.",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    object_state = models.JSONField(
        null=True, blank=True, editable=False,
        help_text="The running sha256 over the first `offset` bytes and, on an object store (S3), where they are (the "
        "multipart upload, its parts, the object holding the bytes after the last part), saved with `offset` in one "
        "UPDATE, so any process continues the upload without re-reading them (artifacts.blobs.store, "
        "artifacts.blobs.s3_uploads). Empty before the first save.",
    )

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(offset__gte=0), name="upload_offset_non_negative")]


# Models and resources (versioned file artifacts) live in their own package; registered here in app "artifacts".
from artifacts.versioned.models import *  # noqa: E402,F401,F403
# Multipart transfers into those versions (NGC upload protocol), written by artifacts.versioned.transfers.
from artifacts.versioned.transfer_models import *  # noqa: E402,F401,F403
# GPU hosts of an org and image compatibility verdicts (artifacts.gpu).
from artifacts.gpu.models import GpuHost, GpuVerdict  # noqa: E402,F401
