"""STORAGES["blobs"]: local files under the blob store's root by default, an S3-compatible bucket
when REGISTRY_S3_* variables say so. Against a real S3 server (SeaweedFS, `s3_server`), Django's
storage API keeps objects at their content address, and its presigned URLs serve the bytes (and
byte ranges) of that one object only while their signature is intact and unexpired."""
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import requests
from django.core.files.base import ContentFile
from django.core.files.storage import storages

ROOT = Path(__file__).resolve().parents[2]


# --- configuration by environment variables, in a real process --------------------------------


def blob_storage_in_process(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess:
    """Start Django with only `variables` of ours set; print STORAGES["blobs"]'s class and options."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "REGISTRY_", "AWS_"))}
    env.update(DJANGO_SETTINGS_MODULE="registry_portal.settings", REGISTRY_VAR_DIR=str(tmp_path / "var"), **variables)
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "from django.core.files.storage import storages; blobs = storages['blobs']; "
        "print(json.dumps({'class': type(blobs).__module__ + '.' + type(blobs).__name__, "
        "'options': settings.STORAGES['blobs']['OPTIONS'], 'location': getattr(blobs, 'location', None)}, default=str))"
    )
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_without_s3_variables_blobs_are_local_files_under_the_blob_store_root(tmp_path):
    result = blob_storage_in_process(tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "class": "artifacts.blobs.store.BlobFileSystemStorage",
        "options": {"allow_overwrite": True},
        "location": str(tmp_path / "var" / "storage"),
    }


def test_s3_variables_configure_the_s3_storage(tmp_path):
    result = blob_storage_in_process(
        tmp_path, REGISTRY_S3_BUCKET="registry-blobs", REGISTRY_S3_ENDPOINT_URL="https://rgw.example.com",
        REGISTRY_S3_REGION="eu-central-1", REGISTRY_S3_ACCESS_KEY_ID="AKIDEXAMPLE",
        REGISTRY_S3_SECRET_ACCESS_KEY="example-secret", REGISTRY_S3_ADDRESSING_STYLE="Path",
        REGISTRY_S3_PRESIGN_SECONDS="120",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "class": "storages.backends.s3.S3Storage",
        "options": {
            "bucket_name": "registry-blobs", "endpoint_url": "https://rgw.example.com", "region_name": "eu-central-1",
            "access_key": "AKIDEXAMPLE", "secret_key": "example-secret", "addressing_style": "path",
            "signature_version": "s3v4", "querystring_expire": 120,
        },
        "location": "",
    }


def test_on_aws_only_the_bucket_is_needed_and_credentials_come_from_boto3(tmp_path):
    result = blob_storage_in_process(tmp_path, REGISTRY_S3_BUCKET="registry-blobs")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["options"] == {
        "bucket_name": "registry-blobs", "signature_version": "s3v4", "querystring_expire": 300,
    }


@pytest.mark.parametrize("variable, value, message", [
    ("REGISTRY_S3_ADDRESSING_STYLE", "dns", "REGISTRY_S3_ADDRESSING_STYLE must be path or virtual, got 'dns'"),
    ("REGISTRY_S3_PRESIGN_SECONDS", "0", "REGISTRY_S3_PRESIGN_SECONDS must be 1 to 604800 seconds, got 0"),
    ("REGISTRY_S3_PRESIGN_SECONDS", "five", "REGISTRY_S3_PRESIGN_SECONDS must be an integer, got 'five'"),
    ("REGISTRY_S3_PART_URL_SECONDS", "604801", "REGISTRY_S3_PART_URL_SECONDS must be 1 to 604800 seconds, got 604801"),
])
def test_a_bad_storage_variable_stops_start_up_with_its_name(tmp_path, variable, value, message):
    result = blob_storage_in_process(tmp_path, REGISTRY_S3_BUCKET="registry-blobs", **{variable: value})
    assert result.returncode != 0
    assert message in result.stderr


# --- against a real S3 server -------------------------------------------------------------------


@pytest.fixture
def s3_blobs(s3_server, settings):
    """storages["blobs"] as S3Storage on the test server's bucket."""
    settings.STORAGES = {**settings.STORAGES, "blobs": {
        "BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": s3_server.storage_options(),
    }}
    return storages["blobs"]


@pytest.fixture
def stored_blob(s3_blobs):
    """A blob saved at its content address; (name, bytes)."""
    content = os.urandom(64 * 1024 + 17)
    name = content_address(content)
    assert s3_blobs.save(name, ContentFile(content)) == name
    yield name, content
    s3_blobs.delete(name)


def content_address(content: bytes) -> str:
    hex_digest = hashlib.sha256(content).hexdigest()
    return f"blobs/sha256/{hex_digest[:2]}/{hex_digest}"


def fetch(url: str, **headers: str) -> requests.Response:
    http = requests.Session()
    http.trust_env = False  # straight to the test server, whatever proxy the machine names
    return http.get(url, headers=headers, timeout=10)


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_an_object_is_saved_read_measured_and_deleted_at_its_content_address(s3_server, s3_blobs):
    content = os.urandom(100_003)
    name = content_address(content)
    assert not s3_blobs.exists(name)

    assert s3_blobs.save(name, ContentFile(content)) == name
    assert s3_blobs.exists(name)
    assert s3_blobs.size(name) == len(content)
    with s3_blobs.open(name) as stored:
        assert stored.read() == content
    # The bucket holds it under exactly that key (no prefix, no renaming).
    assert s3_server.client().head_object(Bucket=s3_server.bucket, Key=name)["ContentLength"] == len(content)

    s3_blobs.delete(name)
    assert not s3_blobs.exists(name)


def test_a_presigned_get_serves_the_bytes(stored_blob, s3_blobs):
    name, content = stored_blob
    response = fetch(s3_blobs.url(name))
    assert response.status_code == 200
    assert response.content == content


def test_without_a_valid_signature_the_object_is_refused(stored_blob, s3_blobs):
    name, _ = stored_blob
    url = s3_blobs.url(name)
    signature = dict(parse_qsl(urlsplit(url).query))["X-Amz-Signature"]
    tampered = ("0" if signature[0] != "0" else "1") + signature[1:]

    assert fetch(with_query(url)).status_code == 200  # rebuilding the query alone changes nothing
    assert fetch(with_query(url, **{"X-Amz-Signature": tampered})).status_code == 403
    assert fetch(url.split("?", 1)[0]).status_code == 403  # the bucket is not public


def test_a_presigned_url_grants_its_one_object_only(stored_blob, s3_blobs):
    name, _ = stored_blob
    other_content = b"another blob"
    other = s3_blobs.save(content_address(other_content), ContentFile(other_content))
    try:
        url = s3_blobs.url(name)
        assert fetch(url.replace(name, other)).status_code == 403
    finally:
        s3_blobs.delete(other)


def test_a_presigned_url_is_refused_once_it_expires(stored_blob, s3_blobs):
    name, _ = stored_blob
    url = s3_blobs.url(name, expire=1)
    assert dict(parse_qsl(urlsplit(url).query))["X-Amz-Expires"] == "1"
    time.sleep(2.5)
    response = fetch(url)
    assert response.status_code == 403
    assert "expired" in response.text.lower()


@pytest.mark.parametrize("range_header, start, stop", [
    ("bytes=0-0", 0, 1),
    ("bytes=1000-4999", 1000, 5000),
    ("bytes=65530-", 65530, None),
    ("bytes=-17", -17, None),
])
def test_a_range_get_through_a_presigned_url_returns_that_slice(stored_blob, s3_blobs, range_header, start, stop):
    name, content = stored_blob
    response = fetch(s3_blobs.url(name), Range=range_header)
    assert response.status_code == 206
    assert response.content == content[start:stop]
    first = start % len(content)
    assert response.headers["Content-Range"] == f"bytes {first}-{first + len(response.content) - 1}/{len(content)}"


def test_a_workers_threads_share_one_s3_client_that_signs_bodies_over_http_without_a_crc(s3_blobs):
    """One client per process (each thread's own cost ~13 MB), and over plain http each body's
    SHA-256 in the signature, which the server checks, instead of botocore's extra CRC32."""
    from artifacts.blobs.store import get_blob_store

    store = get_blob_store()
    in_thread = []
    thread = threading.Thread(target=lambda: in_thread.append(get_blob_store().client))
    thread.start()
    thread.join()
    assert in_thread == [store.client]

    content = os.urandom(10_001)
    digest = "sha256:" + hashlib.sha256(content).hexdigest()
    sent = []
    handler = store.client.meta.events.register("before-send.s3.PutObject", lambda request, **_: sent.append(request.headers))
    try:
        store.put(digest, content)
    finally:
        store.client.meta.events.unregister("before-send.s3.PutObject", handler)
    assert sent[0]["x-amz-content-sha256"] == hashlib.sha256(content).hexdigest().encode()
    assert not [name for name in sent[0] if name.lower().startswith("x-amz-checksum")]
    assert store.stat(digest).size == len(content)
    store.delete(digest)


def test_the_blob_store_on_s3_reads_presigns_and_commits_at_the_content_address(s3_server, s3_blobs):
    from artifacts.blobs.s3_store import S3BlobStore
    from artifacts.blobs.store import get_blob_store

    store = get_blob_store()
    assert isinstance(store, S3BlobStore)
    content = os.urandom(70_001)
    digest = "sha256:" + hashlib.sha256(content).hexdigest()
    s3_server.client().put_object(Bucket=s3_server.bucket, Key="uploads/test-upload", Body=content)
    assert not store.exists(digest) and store.stat(digest) is None

    store.commit_upload("test-upload", digest)
    assert store.stat(digest).size == len(content)
    with store.open(digest, offset=70_000) as tail:
        assert tail.read() == content[70_000:]
    assert fetch(store.presigned_get(digest), Range="bytes=10-19").content == content[10:20]
    with pytest.raises(FileNotFoundError):
        store.open_upload("test-upload")  # moved, not copied
    store.delete(digest)
    assert not store.exists(digest)
