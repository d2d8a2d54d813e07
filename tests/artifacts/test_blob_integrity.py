"""A file at a digest's address is trusted only when it was verified (artifacts.blobs.links): every path
that stores bytes replaces a file nothing verified, keeps a verified one, and `verify_blobs`
finds and quarantines stored bytes that no longer match. (The concurrent-writer race itself runs
against the live server: test_upload_integrity_live.py.)"""
import json
import os
import threading
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from artifacts.blobs import verify
from artifacts.models import Blob, RepositoryBlob, UploadSession
from artifacts.blobs.uploads import upload_writer_lock
from artifacts.blobs.store import blob_path, get_blob_store
from helmrepo import services as helm_services
from tests.support.oci import OCI_MANIFEST, image_manifest, sha256
from tests.artifacts.versioned.test_transfers import make_version
from tests.helmrepo import charts
from tests.support.ngc_transfer import DjangoTransport, Uploader

pytestmark = pytest.mark.django_db
NAME = "acme/alpha/victim"


def stored(digest: str) -> bytes:
    with get_blob_store().open(digest) as handle:
        return handle.read()


def plant(digest: str, wrong: bytes, *, verified: bool = False) -> None:
    """What the upload race left behind before the fix: a row for `digest` and other bytes at its address."""
    Blob.objects.create(digest=digest, size=len(wrong), verified_at=timezone.now() if verified else None)
    path = get_blob_store().root / blob_path(digest)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(wrong)


def leftover_uploads() -> list[str]:
    folder = get_blob_store().root / "uploads"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.mark.django_db(transaction=True)
def test_a_session_claimed_on_another_database_connection_refuses_a_patch_with_the_saved_range(personas, registry):
    """The writer lock is the database's (any node holding it refuses the others), not a file lock."""
    reg = registry(personas.alpha_registry_user)
    location = reg.request("POST", f"/v2/{NAME}/blobs/uploads/")["Location"]
    patched = reg.request("PATCH", location, b"x" * 1000)
    assert patched.status_code == 202
    location = patched["Location"]  # the row's URL, which every later answer gives
    session_id = UploadSession.objects.get().pk
    claimed, release = threading.Event(), threading.Event()

    def another_node():
        try:
            with upload_writer_lock(session_id) as held:
                assert held
                claimed.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=another_node)
    holder.start()
    try:
        assert claimed.wait(10)
        for method in ("PATCH", "PUT", "DELETE"):
            refused = reg.request(method, f"{location}?digest={sha256(b'x' * 1000)}", b"y" * 10)
            assert refused.status_code == 416 and refused["Range"] == "0-999" and refused["Location"] == location
        assert reg.request("GET", location)["Range"] == "0-999"  # reading the status needs no claim
    finally:
        release.set()
        holder.join(10)
    assert reg.request("PUT", f"{location}?digest={sha256(b'x' * 1000)}").status_code == 201


# Each path that stores bytes, uploading `data` (which has digest `digest`) as its owner would.
def _registry_session(personas, registry, data: bytes) -> None:
    reg = registry(personas.alpha_registry_user)
    location = reg.request("POST", f"/v2/{NAME}/blobs/uploads/")["Location"]
    assert reg.request("PATCH", location, data[:1000]).status_code == 202
    assert reg.request("PUT", f"{location}?digest={sha256(data)}", data[1000:]).status_code == 201


def _registry_monolithic(personas, registry, data: bytes) -> None:
    registry(personas.alpha_registry_user).push_blob(NAME, data)


def _model_file(personas, registry, data: bytes) -> None:
    make_version(personas.acme, personas.alpha, "bert", "1.0", personas.alpha_registry_user)
    up = Uploader(DjangoTransport(personas.alpha_registry_user), "org/acme/team/alpha", "models", "bert", "1.0")
    assert up.upload_all({"weights.bin": data}, part_size=4096) == ["weights.bin"]


def _helm_chart(personas, registry, data: bytes) -> None:
    helm_services.chart_version_push(actor=personas.alpha_registry_user, space=personas.alpha_space, chunks=[data])


UPLOADS = {"registry session": _registry_session, "registry monolithic": _registry_monolithic,
           "model file": _model_file, "helm chart": _helm_chart}


@pytest.mark.parametrize("path", UPLOADS)
def test_every_upload_path_replaces_an_unverified_file_at_its_digest_with_the_genuine_bytes(personas, registry, path):
    genuine = charts.package("victim", "1.0.0", extra_members=[charts.file_member("victim/blob.bin", os.urandom(10_000))])
    digest = sha256(genuine)
    plant(digest, os.urandom(len(genuine)))  # an attacker's bytes of the same length
    UPLOADS[path](personas, registry, genuine)
    assert stored(digest) == genuine
    blob = Blob.objects.get(digest=digest)
    assert blob.verified_at is not None and blob.size == len(genuine)
    assert leftover_uploads() == []


def test_a_manifest_put_replaces_an_unverified_file_at_its_digest(personas, registry):
    reg = registry(personas.alpha_registry_user)
    layer = reg.push_blob(NAME, b"layer")
    document = image_manifest(layer, 5, [(layer, 5)])
    body = json.dumps(document).encode()
    plant(sha256(body), b" " * len(body))
    response, _ = reg.push_manifest(NAME, "v1", document, OCI_MANIFEST)
    assert response.status_code == 201
    assert stored(sha256(body)) == body
    got = reg.request("GET", f"/v2/{NAME}/manifests/v1", HTTP_ACCEPT=OCI_MANIFEST)
    assert got.content == body


@pytest.mark.parametrize("path", UPLOADS)
def test_a_verified_blob_is_stored_once_and_a_second_upload_keeps_it(personas, registry, path):
    genuine = charts.package("victim", "1.0.0")
    digest = sha256(genuine)
    registry(personas.org_registry_user).push_blob("acme/first", genuine)
    first = get_blob_store().stat(digest)
    UPLOADS[path](personas, registry, genuine)
    assert get_blob_store().stat(digest) == first  # the same file, not rewritten
    assert stored(digest) == genuine and leftover_uploads() == []


def test_a_verified_blob_whose_file_went_missing_is_stored_again(personas, registry):
    data = b"bytes whose file was lost"
    plant(sha256(data), data, verified=True)
    (get_blob_store().root / blob_path(sha256(data))).unlink()
    _registry_monolithic(personas, registry, data)
    assert stored(sha256(data)) == data


# --- manage.py verify_blobs ---------------------------------------------------------------------


def corrupt(digest: str) -> None:
    """Flip one byte of a stored blob (same size: only a re-hash notices)."""
    path = get_blob_store().root / blob_path(digest)
    data = bytearray(path.read_bytes())
    data[0] ^= 0xFF
    path.write_bytes(bytes(data))


def test_verify_blobs_reports_a_corrupted_file_and_exits_non_zero_without_touching_it(personas, registry, capsys):
    reg = registry(personas.alpha_registry_user)
    good, bad = reg.push_blob(NAME, b"good bytes"), reg.push_blob(NAME, b"bytes that rot")
    corrupt(bad)
    with pytest.raises(CommandError, match="1 stored blobs do not match"):
        call_command("verify_blobs")
    out = capsys.readouterr().out
    assert f"MISMATCH {bad} does not hash to its digest" in out and good not in out
    assert "Checked 2 blobs" in out
    assert get_blob_store().exists(bad) and Blob.objects.filter(digest=bad).exists()


def test_verify_blobs_repair_quarantines_a_corrupted_layer_and_the_next_genuine_push_replaces_it(personas, registry, capsys):
    reg = registry(personas.alpha_registry_user)
    layer = b"a layer that rots on disk"
    reg.push_image(NAME, "v1", layer=layer)
    digest = sha256(layer)
    corrupt(digest)
    call_command("verify_blobs", "--repair")
    assert f"MISMATCH {digest}" in capsys.readouterr().out
    assert not get_blob_store().exists(digest)
    assert [p.name.split(".")[0] for p in (get_blob_store().root / "quarantine" / "sha256").iterdir()] == [digest.split(":")[1]]
    blob = Blob.objects.get(digest=digest)  # the manifest still references it: kept, unverified, in no repository
    assert blob.verified_at is None and not RepositoryBlob.objects.filter(blob=blob).exists()
    assert reg.request("HEAD", f"/v2/{NAME}/blobs/{digest}").status_code == 404  # so the client uploads it again

    reg.push_blob(NAME, layer)
    assert b"".join(reg.request("GET", f"/v2/{NAME}/blobs/{digest}").streaming_content) == layer
    call_command("verify_blobs")  # clean now: no CommandError


def test_verify_blobs_repair_deletes_an_unreferenced_corrupted_blob_and_marks_good_ones_verified(personas, registry):
    reg = registry(personas.alpha_registry_user)
    good, bad = reg.push_blob(NAME, b"good bytes"), reg.push_blob(NAME, b"orphan bytes that rot")
    Blob.objects.update(verified_at=None, last_linked_at=timezone.now() - timedelta(days=1))
    corrupt(bad)
    report = verify.blob_verify_stored(repair=True)
    assert [(m.digest, m.repaired) for m in report.mismatches] == [(bad, True)]
    assert not Blob.objects.filter(digest=bad).exists()
    assert Blob.objects.get(digest=good).verified_at is not None


def test_verify_blobs_reports_a_missing_file(personas, registry):
    digest = registry(personas.alpha_registry_user).push_blob(NAME, b"soon gone")
    get_blob_store().delete(digest)
    report = verify.blob_verify_stored(digests=[digest])
    assert [(m.digest, m.problem) for m in report.mismatches] == [(digest, "is missing from storage")]
