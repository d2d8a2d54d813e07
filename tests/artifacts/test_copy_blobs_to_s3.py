"""`manage.py copy_blobs_to_s3`: an installation's local blob store moves into its S3 bucket (the
`s3_server` SeaweedFS), each file re-hashed on the way; a corrupted file is reported, not copied,
and the command exits non-zero; a second run finds everything there; after the switch the
registry serves what it served before."""
import hashlib
import json
import os
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from artifacts.blobs.store import blob_path
from tests.support.oci import sha256
from tests.support.s3_mode import fetch, switch_to_s3

pytestmark = pytest.mark.django_db
NAME = "acme/alpha/app"
MIB = 1024 * 1024


def _write_blob(root: Path, data: bytes, *, stored: bytes | None = None) -> str:
    """A blob file for `data` under `root`, holding `stored` instead when given (a corrupted file)."""
    digest = sha256(data)
    path = root / blob_path(digest)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if stored is None else stored)
    return digest


def _object(s3_server, digest: str) -> bytes | None:
    client = s3_server.client()
    listing = client.list_objects_v2(Bucket=s3_server.bucket, Prefix=str(blob_path(digest)))
    if not listing.get("Contents"):
        return None
    return client.get_object(Bucket=s3_server.bucket, Key=str(blob_path(digest)))["Body"].read()


def _copy(capsys, *args: str) -> tuple[str, bool]:
    """Run the command; (its output, whether it failed)."""
    try:
        call_command("copy_blobs_to_s3", "--part-size-mib", "5", *args)
        failed = False
    except CommandError:
        failed = True
    return capsys.readouterr().out, failed


def test_a_local_store_moves_into_the_bucket_verified_and_a_corrupted_file_stays_behind(
    personas, registry, settings, s3_server, blob_root, capsys
):
    reg = registry(personas.alpha_registry_user)
    layer = os.urandom(20_000)
    config = json.dumps({"architecture": "amd64", "os": "linux", "id": os.urandom(8).hex()}).encode()
    manifest_digest, _ = reg.push_image(NAME, "1.0", layer=layer, config=config)
    large = os.urandom(5 * MIB + 1)  # two parts of a multipart upload
    large_digest = _write_blob(blob_root, large)
    corrupted_small = _write_blob(blob_root, os.urandom(3000), stored=os.urandom(3000))
    corrupted_large = _write_blob(blob_root, os.urandom(5 * MIB + 2), stored=os.urandom(5 * MIB + 2))
    good = [manifest_digest, sha256(layer), sha256(config), large_digest]
    switch_to_s3(settings, s3_server)

    out, failed = _copy(capsys, "--dry-run")
    assert not failed and "Would copy 6 blobs" in out
    assert all(_object(s3_server, digest) is None for digest in good)

    out, failed = _copy(capsys)
    assert failed
    assert "[1/6]" in out and f"{large_digest} ({5 * MIB + 1} bytes): copied" in out
    for corrupted in (corrupted_small, corrupted_large):
        assert f"{corrupted} (" in out and "NOT COPIED, does not hash to its digest" in out
        assert _object(s3_server, corrupted) is None
    assert "Copied 4 blobs" in out and "2 did not match their digest" in out
    assert _object(s3_server, large_digest) == large
    assert _object(s3_server, sha256(layer)) == layer
    assert not s3_server.client().list_multipart_uploads(Bucket=s3_server.bucket, Prefix="blobs/").get("Uploads")

    out, failed = _copy(capsys)
    assert failed and "Copied 0 blobs" in out and "4 were already in the bucket" in out

    assert reg.request("GET", f"/v2/{NAME}/manifests/1.0").status_code == 200
    location = reg.request("GET", f"/v2/{NAME}/blobs/{sha256(layer)}")["Location"]
    assert hashlib.sha256(fetch(location).content).hexdigest() == sha256(layer).split(":")[1]


def test_the_command_refuses_to_run_without_an_s3_bucket(capsys):
    with pytest.raises(CommandError, match="REGISTRY_S3_BUCKET"):
        call_command("copy_blobs_to_s3")


def test_a_corrupted_file_leaves_the_object_already_at_its_address_alone(settings, s3_server, blob_root, capsys):
    data = os.urandom(5 * MIB + 3)
    digest = _write_blob(blob_root, data, stored=os.urandom(6 * MIB))  # larger: sent in parts, then refused
    key = str(blob_path(digest))
    s3_server.client().put_object(Bucket=s3_server.bucket, Key=key, Body=data)  # the right bytes, from elsewhere
    switch_to_s3(settings, s3_server)
    try:
        out, failed = _copy(capsys)
        assert failed and "NOT COPIED, does not hash to its digest" in out
        assert _object(s3_server, digest) == data
        assert not s3_server.client().list_multipart_uploads(Bucket=s3_server.bucket, Prefix=key).get("Uploads")
    finally:
        s3_server.client().delete_object(Bucket=s3_server.bucket, Key=key)
