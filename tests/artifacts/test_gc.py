"""Garbage collection of unreferenced blobs and stale upload sessions."""
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from artifacts import services
from artifacts.models import Blob, UploadSession
from artifacts.storage import get_blob_store
from tests.artifacts.conftest import sha256

pytestmark = pytest.mark.django_db
NAME = "acme/alpha/app"


def test_a_committed_blob_not_yet_linked_by_a_manifest_survives_gc(personas, registry):
    reg = registry(personas.alpha_registry_user)
    digest = reg.push_blob(NAME, b"layer of a push in progress")
    report = services.blob_collect_garbage(grace=timedelta(minutes=30))
    assert report.blobs_deleted == 0
    assert Blob.objects.filter(digest=digest).exists() and get_blob_store().exists(digest)


def test_gc_removes_old_unreferenced_blobs_and_keeps_referenced_ones(personas, registry):
    reg = registry(personas.alpha_registry_user)
    manifest_digest, _ = reg.push_image(NAME, "1.0", layer=b"kept layer")
    orphan = reg.push_blob(NAME, b"orphan")
    Blob.objects.update(last_linked_at=timezone.now() - timedelta(days=1))
    report = services.blob_collect_garbage(grace=timedelta(minutes=30))
    assert report.blobs_deleted == 1 and report.bytes_freed == len(b"orphan")
    assert not get_blob_store().exists(orphan)
    assert get_blob_store().exists(sha256(b"kept layer")) and get_blob_store().exists(manifest_digest)
    assert reg.request("GET", f"/v2/{NAME}/manifests/1.0").status_code == 200


def test_gc_removes_stale_upload_sessions_but_not_fresh_ones(personas, registry):
    reg = registry(personas.alpha_registry_user)
    stale = reg.request("POST", f"/v2/{NAME}/blobs/uploads/")["Location"]
    reg.request("PATCH", stale, b"partial")
    fresh = reg.request("POST", f"/v2/{NAME}/blobs/uploads/")["Location"]
    UploadSession.objects.filter(pk=stale.rsplit("/", 1)[1]).update(updated_at=timezone.now() - timedelta(days=2))
    call_command("gc_blobs", "--session-ttl-hours", "24")
    assert list(UploadSession.objects.values_list("pk", flat=True).order_by()) == [UploadSession.objects.get().pk]
    assert str(UploadSession.objects.get().pk) == fresh.rsplit("/", 1)[1]


def test_the_celery_task_runs_the_collection(personas):
    from artifacts.tasks import collect_blob_garbage

    assert collect_blob_garbage.run() == {"blobs_deleted": 0, "bytes_freed": 0, "sessions_deleted": 0}
