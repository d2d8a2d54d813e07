"""Garbage collection and re-verification with the blobs on S3 (the `s3_server` SeaweedFS): GC
deletes the objects of unreferenced blobs and aborts the multipart uploads no live session owns;
verify_blobs re-hashes objects and moves a corrupted one to quarantine/."""
import os
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from artifacts.blobs import gc
from artifacts.blobs.store import blob_path
from artifacts.models import UploadSession
from tests.support.oci import error_codes, sha256
from tests.support.s3_mode import mirror_local_blobs, switch_to_s3

pytestmark = pytest.mark.django_db
NAME = "acme/alpha/app"


def _keys(s3_server, prefix: str) -> set[str]:
    listing = s3_server.client().list_objects_v2(Bucket=s3_server.bucket, Prefix=prefix)
    return {item["Key"] for item in listing.get("Contents", [])}


def _multipart_keys(s3_server, keys: set[str]) -> set[str]:
    """Which of `keys` have a multipart upload in progress."""
    listing = s3_server.client().list_multipart_uploads(Bucket=s3_server.bucket)
    return {upload["Key"] for upload in listing.get("Uploads", [])} & keys


def test_gc_deletes_unreferenced_objects_and_aborts_multipart_uploads_no_live_session_owns(
    personas, registry, settings, s3_server, blob_root
):
    reg = registry(personas.alpha_registry_user)
    layer = os.urandom(3000)
    manifest_digest, _ = reg.push_image(NAME, "1.0", layer=layer)
    orphan = reg.push_blob(NAME, os.urandom(2000))
    live_session = reg.start_upload(NAME).rsplit("/", 1)[1]
    mirror_local_blobs(s3_server, blob_root)
    switch_to_s3(settings, s3_server)
    client, bucket = s3_server.client(), s3_server.bucket
    live, dropped = f"uploads/{live_session}", f"uploads/{uuid.uuid4()}"  # dropped: its row went with its repository
    died = str(blob_path(sha256(os.urandom(8))))  # a copy to a content address that died half-way
    started = {key: client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"] for key in (live, dropped, died)}
    client.put_object(Bucket=bucket, Key=f"{live}.tail", Body=b"tail of a live session")
    client.put_object(Bucket=bucket, Key=dropped, Body=b"bytes of a dropped session")
    later = timezone.now() + timedelta(days=2)  # everything above is two days old, the live session touched just now
    UploadSession.objects.filter(pk=live_session).update(updated_at=later)

    report = gc.blob_collect_garbage(now=later, grace=timedelta(minutes=30), session_ttl=timedelta(hours=24))

    assert report.blobs_deleted == 1 and report.multipart_uploads_aborted >= 1
    assert _multipart_keys(s3_server, {live, dropped, died}) == {live}
    assert _keys(s3_server, "uploads/") == {f"{live}.tail"}
    assert str(blob_path(orphan)) not in _keys(s3_server, str(blob_path(orphan)))
    for kept in (manifest_digest, sha256(layer)):
        assert _keys(s3_server, str(blob_path(kept))) == {str(blob_path(kept))}
    assert reg.request("GET", f"/v2/{NAME}/manifests/1.0").status_code == 200
    client.abort_multipart_upload(Bucket=bucket, Key=live, UploadId=started[live])  # leave the run's bucket as found
    client.delete_object(Bucket=bucket, Key=f"{live}.tail")


def test_verify_blobs_repair_moves_a_corrupted_object_to_quarantine(personas, registry, settings, s3_server, blob_root, capsys):
    reg = registry(personas.alpha_registry_user)
    good, bad = reg.push_blob(NAME, os.urandom(4000)), reg.push_blob(NAME, os.urandom(4000))
    mirror_local_blobs(s3_server, blob_root)
    switch_to_s3(settings, s3_server)
    s3_server.client().put_object(Bucket=s3_server.bucket, Key=str(blob_path(bad)), Body=os.urandom(4000))

    call_command("verify_blobs", good, bad, "--repair")

    out = capsys.readouterr().out
    assert f"MISMATCH {bad} does not hash to its digest in storage" in out and good not in out.split("Checked")[0]
    assert _keys(s3_server, str(blob_path(bad))) == set()
    hex_digest = bad.split(":")[1]
    assert len(_keys(s3_server, f"quarantine/sha256/{hex_digest}.")) == 1
    response = reg.request("GET", f"/v2/{NAME}/blobs/{bad}")
    assert response.status_code == 404 and error_codes(response) == ["BLOB_UNKNOWN"]
