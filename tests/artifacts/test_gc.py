"""Garbage collection of unreferenced blobs and stale upload sessions."""
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection, models
from django.utils import timezone

from artifacts.blobs import gc, links
from artifacts.models import Blob, UploadSession
from artifacts.blobs.store import get_blob_store
from tests.support.concurrency import held_by_another_transaction
from tests.support.oci import OCI_MANIFEST, error_codes, image_manifest, sha256

pytestmark = pytest.mark.django_db
NAME = "acme/alpha/app"


def test_a_committed_blob_not_yet_linked_by_a_manifest_survives_gc(personas, registry):
    reg = registry(personas.alpha_registry_user)
    digest = reg.push_blob(NAME, b"layer of a push in progress")
    report = gc.blob_collect_garbage(grace=timedelta(minutes=30))
    assert report.blobs_deleted == 0
    assert Blob.objects.filter(digest=digest).exists() and get_blob_store().exists(digest)


def test_gc_removes_old_unreferenced_blobs_and_keeps_referenced_ones(personas, registry):
    reg = registry(personas.alpha_registry_user)
    manifest_digest, _ = reg.push_image(NAME, "1.0", layer=b"kept layer")
    orphan = reg.push_blob(NAME, b"orphan")
    Blob.objects.update(last_linked_at=timezone.now() - timedelta(days=1))
    report = gc.blob_collect_garbage(grace=timedelta(minutes=30))
    assert report.blobs_deleted == 1 and report.bytes_freed == len(b"orphan")
    assert not get_blob_store().exists(orphan)
    assert get_blob_store().exists(sha256(b"kept layer")) and get_blob_store().exists(manifest_digest)
    assert reg.request("GET", f"/v2/{NAME}/manifests/1.0").status_code == 200


def test_gc_removes_stale_upload_sessions_but_not_fresh_ones(personas, registry):
    reg = registry(personas.alpha_registry_user)
    stale = reg.request("POST", f"/v2/{NAME}/blobs/uploads/")["Location"]
    reg.request("PATCH", stale, b"partial")
    fresh = reg.start_upload(NAME)
    UploadSession.objects.filter(pk=stale.rsplit("/", 1)[1].split(".")[0]).update(updated_at=timezone.now() - timedelta(days=2))
    call_command("gc_blobs", "--session-ttl-hours", "24")
    assert list(UploadSession.objects.values_list("pk", flat=True).order_by()) == [UploadSession.objects.get().pk]
    assert str(UploadSession.objects.get().pk) == fresh.rsplit("/", 1)[1]


def test_the_celery_task_runs_the_collection(personas):
    from artifacts.tasks import collect_blob_garbage

    assert collect_blob_garbage.run() == {
        "blobs_deleted": 0, "bytes_freed": 0, "sessions_deleted": 0, "multipart_uploads_aborted": 0,
    }


def _age_all_blobs(days: int = 1) -> None:
    Blob.objects.update(last_linked_at=timezone.now() - timedelta(days=days))


def test_a_blob_head_that_answers_exists_keeps_the_blob_through_gc_until_the_manifest_put(personas, registry):
    """The race: a push HEADs a layer committed long ago and unreferenced, skips uploading it, GC runs,
    then the manifest PUT arrives. The HEAD restarted the grace clock, so the PUT finds its blobs."""
    reg = registry(personas.alpha_registry_user)
    config, layer = b'{"architecture":"amd64","os":"linux"}', b"layer pushed long ago"
    config_digest, layer_digest = reg.push_blob(NAME, config), reg.push_blob(NAME, layer)
    orphan = reg.push_blob(NAME, b"unreferenced and nobody asked")
    _age_all_blobs()
    for digest in (config_digest, layer_digest):
        assert reg.request("HEAD", f"/v2/{NAME}/blobs/{digest}").status_code == 200
    report = gc.blob_collect_garbage(grace=timedelta(minutes=30))
    assert report.blobs_deleted == 1 and report.bytes_freed == len(b"unreferenced and nobody asked")
    assert not Blob.objects.filter(digest=orphan).exists() and not get_blob_store().exists(orphan)
    assert get_blob_store().exists(config_digest) and get_blob_store().exists(layer_digest)
    document = image_manifest(config_digest, len(config), [(layer_digest, len(layer))])
    response, _ = reg.push_manifest(NAME, "1.0", document, OCI_MANIFEST)
    assert response.status_code == 201, response.content
    assert reg.request("GET", f"/v2/{NAME}/blobs/{layer_digest}").getvalue() == layer


def test_without_the_head_the_same_old_unreferenced_blobs_are_collected(personas, registry):
    reg = registry(personas.alpha_registry_user)
    config_digest = reg.push_blob(NAME, b"{}")
    layer_digest = reg.push_blob(NAME, b"layer pushed long ago")
    _age_all_blobs()
    assert gc.blob_collect_garbage(grace=timedelta(minutes=30)).blobs_deleted == 2
    document = image_manifest(config_digest, 2, [(layer_digest, len(b"layer pushed long ago"))])
    response, _ = reg.push_manifest(NAME, "1.0", document, OCI_MANIFEST)
    assert response.status_code == 404 and error_codes(response) == ["MANIFEST_BLOB_UNKNOWN"]


def test_a_cross_repository_mount_keeps_an_old_blob_through_gc(personas, registry):
    reg = registry(personas.alpha_registry_user)
    config, layer = b"{}", b"layer mounted from another repository"
    config_digest, layer_digest = reg.push_blob(NAME, config), reg.push_blob(NAME, layer)
    _age_all_blobs()
    target = "acme/alpha/other"
    for digest in (config_digest, layer_digest):
        response = reg.request("POST", f"/v2/{target}/blobs/uploads/?mount={digest}&from={NAME}")
        assert response.status_code == 201, response.content
    assert gc.blob_collect_garbage(grace=timedelta(minutes=30)).blobs_deleted == 0
    document = image_manifest(config_digest, len(config), [(layer_digest, len(layer))])
    response, _ = reg.push_manifest(target, "1.0", document, OCI_MANIFEST)
    assert response.status_code == 201, response.content


def test_a_blob_head_writes_only_when_the_grace_clock_is_stale(personas, registry, settings):
    settings.BLOB_GC_GRACE_MINUTES = 60  # touched when older than a quarter of that
    reg = registry(personas.alpha_registry_user)
    digest = reg.push_blob(NAME, b"headed")
    fresh = timezone.now() - timedelta(minutes=10)
    Blob.objects.update(last_linked_at=fresh)
    assert reg.request("HEAD", f"/v2/{NAME}/blobs/{digest}").status_code == 200
    assert Blob.objects.get(digest=digest).last_linked_at == fresh
    Blob.objects.update(last_linked_at=timezone.now() - timedelta(minutes=20))
    before = timezone.now()
    assert reg.request("HEAD", f"/v2/{NAME}/blobs/{digest}").status_code == 200
    assert Blob.objects.get(digest=digest).last_linked_at >= before
    assert reg.request("GET", f"/v2/{NAME}/blobs/{digest}").status_code == 200


def test_touching_a_blob_gc_deleted_meanwhile_reports_it_gone(personas, registry):
    reg = registry(personas.alpha_registry_user)
    digest = reg.push_blob(NAME, b"collected between lookup and touch")
    _age_all_blobs()
    looked_up = Blob.objects.get(digest=digest)
    assert gc.blob_collect_garbage(grace=timedelta(minutes=30)).blobs_deleted == 1
    assert links.blob_touch(blob=looked_up) is False
    assert not Blob.objects.filter(digest=digest).exists()
    assert reg.request("HEAD", f"/v2/{NAME}/blobs/{digest}").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_head_during_a_gc_deletion_waits_for_the_row_lock_and_answers_unknown(personas, registry):
    """GC deletes under a row lock; a concurrent touch blocks on it and then finds the row gone."""
    reg = registry(personas.alpha_registry_user)
    digest = reg.push_blob(NAME, b"deleted while a HEAD is in flight")
    _age_all_blobs()
    looked_up = Blob.objects.get(digest=digest)

    def gc_deleting():
        Blob.objects.select_for_update().get(pk=looked_up.pk).delete()

    with held_by_another_transaction(gc_deleting):
        assert links.blob_touch(blob=looked_up) is False


@pytest.fixture
def blob_keeper():
    """A model GC code has never heard of, pointing at Blob with PROTECT as every keeping relation
    does (registered in an installed app for this test only; its table goes with the test's rollback)."""

    class BlobKeeper(models.Model):
        blob = models.ForeignKey("artifacts.Blob", on_delete=models.PROTECT, related_name="+")

        class Meta:
            app_label = "outbox"

    with connection.schema_editor() as editor:
        editor.create_model(BlobKeeper)
    try:
        yield BlobKeeper
    finally:
        del apps.all_models["outbox"]["blobkeeper"]
        apps.clear_cache()


def test_a_new_relation_that_protects_a_blob_keeps_it_without_gc_knowing_its_app(blob_keeper):
    kept = links.blob_put_bytes(data=b"kept by a new app", digest=sha256(b"kept by a new app"))
    dropped = links.blob_put_bytes(data=b"kept by nothing", digest=sha256(b"kept by nothing"))
    blob_keeper.objects.create(blob=kept)
    _age_all_blobs()

    assert gc.blob_collect_garbage(grace=timedelta(minutes=30)).blobs_deleted == 1
    assert list(Blob.objects.values_list("digest", flat=True)) == [kept.digest]
    assert get_blob_store().exists(kept.digest) and not get_blob_store().exists(dropped.digest)

    blob_keeper.objects.all().delete()
    assert gc.blob_collect_garbage(grace=timedelta(minutes=30)).blobs_deleted == 1
    assert not Blob.objects.exists()
