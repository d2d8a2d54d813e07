import uuid
from datetime import datetime

from django.apps import AppConfig


class ArtifactsConfig(AppConfig):
    name = "artifacts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # In S3 mode, build the process's boto3 client now (boto3 imported, the S3 service model
        # loaded: ~30 MB) so a worker's idle size includes it and its memory stays flat during its
        # first push (docs/performance.md, S3 push cost). Local files: nothing is imported.
        from artifacts.blobs.store import get_blob_store, is_object_store

        if is_object_store():
            get_blob_store()

    def team_name_conflict(self, *, org, name: str) -> str | None:
        """accounts.services.team_name_conflict asks every app: an org-level container repository
        `<org>/<name>/...` stays org-level for good, so no team may take `<name>` while it exists."""
        from artifacts.selectors import org_repository_under

        repository = org_repository_under(org, name)
        if repository is None:
            return None
        return (
            f"Team '{name}' cannot be created in org '{org.name}': the org-level container repository "
            f"'{repository.name}' already uses that name. Delete it first, or choose another team name."
        )

    # artifacts.blobs.gc asks every app for its upload sessions: this app runs two kinds, the
    # registry's (artifacts.blobs.uploads) and the NGC multipart transfers (artifacts.versioned).

    def collect_stale_uploads(self, *, older_than: datetime) -> int:
        from artifacts.blobs.uploads import upload_sessions_collect_stale
        from artifacts.versioned.transfers.multipart import multipart_collect_stale

        return upload_sessions_collect_stale(older_than=older_than) + multipart_collect_stale(older_than=older_than)

    def owns_upload(self, upload_id: uuid.UUID) -> bool:
        from artifacts.models import MultipartUpload, UploadSession

        return UploadSession.objects.filter(pk=upload_id).exists() or MultipartUpload.objects.filter(pk=upload_id).exists()
