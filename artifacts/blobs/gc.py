"""Garbage collection of the blob store: unreferenced blobs, stale upload sessions, orphan upload files.

What keeps a blob is read from the models, not from a list of apps: every relation that points at
Blob with on_delete=PROTECT (a manifest, its layers, a model or resource file, a completed multipart
upload, a Helm chart version, a logo — and whatever an app adds later) is a reference, because
the database would refuse to delete the blob under it anyway. A CASCADE relation (a repository's
list of its blobs, RepositoryBlob) is a link that goes with the blob, not a reference.

Upload sessions belong to the apps that run them: an app's AppConfig may define
`collect_stale_uploads(*, older_than) -> int` (drop sessions idle since then, with their bytes) and
`owns_upload(upload_id: uuid.UUID) -> bool` (an upload file of that name, or `<name>.<suffix>`, is a
live session's). What no live session owns and was not written within the session TTL goes: upload
files or objects, and on S3 the multipart uploads left behind (a session dropped with its row, a
copy that died half-way), whose parts the bucket would otherwise keep, unlisted and billed.
"""
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import reduce
from operator import or_

from django.apps import apps
from django.conf import settings
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from artifacts.blobs.store import get_blob_store
from artifacts.models import Blob

log = logging.getLogger(__name__)


def keeping_relations() -> list[models.ForeignObjectRel]:
    """The relations whose rows keep the blob they point at (on_delete=PROTECT), hidden ones included."""
    return [
        rel for rel in Blob._meta.get_fields(include_hidden=True)
        if isinstance(rel, models.ForeignObjectRel) and rel.auto_created and not rel.concrete
        and (rel.one_to_many or rel.one_to_one) and rel.on_delete is models.PROTECT
    ]


def blob_referenced() -> Q:
    """Rows something keeps (see the module's docstring): a condition on Blob, for GC and quarantine."""
    return reduce(or_, (
        Q(Exists(rel.field.model._base_manager.filter(**{rel.field.name: OuterRef("pk")})))  # field.model: the keeping model
        for rel in keeping_relations()
    ))


@dataclass
class GcReport:
    blobs_deleted: int = 0
    bytes_freed: int = 0
    sessions_deleted: int = 0
    multipart_uploads_aborted: int = 0


def _app_hooks(name: str) -> list:
    return [getattr(config, name) for config in apps.get_app_configs() if hasattr(config, name)]


def _upload_has_session(name: str) -> bool:
    """Whether `uploads/<name>` is a live session's: its id, or its id and a suffix (`<id>.tail`)."""
    try:
        key = uuid.UUID(name.split(".", 1)[0])
    except ValueError:
        return False
    return any(owns(key) for owns in _app_hooks("owns_upload"))


def _live_upload_key(relative_key: str) -> bool:
    folder, _, name = relative_key.partition("/")
    return folder == "uploads" and "/" not in name and _upload_has_session(name)


def blob_collect_garbage(
    *, grace: timedelta | None = None, session_ttl: timedelta | None = None, now: datetime | None = None
) -> GcReport:
    """Delete blobs nothing references and stale upload sessions.

    Safe against a push in progress: a blob linked, uploaded, mounted or answered "exists" to a
    blob HEAD (`blob_touch`) within `grace` is kept (a push commits or finds its layers before the
    manifest that references them), as is every upload
    session touched within `session_ttl`. Each candidate is re-checked under FOR UPDATE, which
    conflicts with the weaker locks the commit, mount (NO KEY UPDATE) and manifest (KEY SHARE) paths
    take: a row one of them holds is skipped, and one GC holds makes them wait and then find it gone,
    so a concurrent push either sees the blob gone or keeps it.
    """
    now = now or timezone.now()
    grace = grace if grace is not None else timedelta(minutes=settings.BLOB_GC_GRACE_MINUTES)
    session_ttl = session_ttl if session_ttl is not None else timedelta(hours=settings.UPLOAD_SESSION_TTL_HOURS)
    report = GcReport()
    store = get_blob_store()

    for collect in _app_hooks("collect_stale_uploads"):
        report.sessions_deleted += collect(older_than=now - session_ttl)
    # Upload files whose session row is gone (its repository or version was deleted mid-upload).
    stale_before = (now - session_ttl).timestamp()
    for name in store.stale_uploads(modified_before=stale_before):
        if not _upload_has_session(name):
            store.delete_upload(name)
            report.sessions_deleted += 1
    report.multipart_uploads_aborted = store.abort_stale_multipart_uploads(
        initiated_before=stale_before, keep=_live_upload_key
    )

    referenced = blob_referenced()
    candidates = Blob.objects.filter(last_linked_at__lt=now - grace).exclude(referenced).values_list("pk", flat=True)
    for pk in list(candidates):
        with transaction.atomic():
            blob = (
                Blob.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, last_linked_at__lt=now - grace)
                .exclude(referenced)
                .first()
            )
            if blob is None:
                continue
            blob.delete()
            store.delete(blob.digest)
        report.blobs_deleted += 1
        report.bytes_freed += blob.size
    log.info("blob gc: %s", report)
    return report
