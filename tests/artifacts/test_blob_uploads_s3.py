"""Registry uploads with the blob store on S3 (a real SeaweedFS server): an upload session is an S3
multipart upload whose parts, tail object and running sha256 are saved in its row, so any node
continues it; the bytes become an object at their content address only once verified, and a
cancelled, failed or abandoned upload leaves nothing in the bucket."""
import os
from datetime import timedelta

import pytest
import requests
from botocore.config import Config
from django.utils import timezone

from artifacts.blobs import gc, uploads
from artifacts.blobs.store import blob_path, get_blob_store, upload_path
from artifacts.models import Blob, UploadSession
from tests.support.oci import OCI_MANIFEST, error_codes, image_manifest, sha256
from tests.support.servers import free_port

pytestmark = pytest.mark.django_db
NAME = "acme/alpha/app"
MiB = 1024 * 1024


def stored_object(s3, key: str) -> bytes:
    return s3.client().get_object(Bucket=s3.bucket, Key=key)["Body"].read()


def blob_object(s3, data: bytes) -> bytes:
    return stored_object(s3, str(blob_path(sha256(data))))


def leftovers(s3, upload_id) -> list[str]:
    """Objects and open multipart uploads the upload still has in the bucket."""
    client, key = s3.client(), str(upload_path(str(upload_id)))
    objects = client.list_objects_v2(Bucket=s3.bucket, Prefix=key).get("Contents", [])
    multipart = client.list_multipart_uploads(Bucket=s3.bucket, Prefix=key).get("Uploads", [])
    return [item["Key"] for item in objects] + [f"multipart {item['Key']}" for item in multipart]


def pulled_bytes(response) -> bytes:
    """A blob GET's bytes: streamed by the app, or behind its redirect to a presigned GET."""
    if response.status_code == 307:
        return requests.get(response["Location"], timeout=10).content
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def chunks_of(data: bytes, size: int = 64 * 1024):
    for start in range(0, len(data), size):
        yield data[start:start + size]


def test_a_chunked_push_stores_exactly_the_bytes_at_their_content_address(personas, registry, s3_blobs):
    reg = registry(personas.alpha_registry_user)
    layer = os.urandom(3000)
    location = reg.request("POST", f"/v2/{NAME}/blobs/uploads/")["Location"]
    assert reg.request("PATCH", location, layer[:1000], HTTP_CONTENT_RANGE="0-999")["Range"] == "0-999"
    session = UploadSession.objects.get()
    assert session.object_state["tail_size"] == 1000 and session.object_state["upload"] is None  # under a part: a tail object
    assert reg.request("PATCH", location, layer[1000:2500], HTTP_CONTENT_RANGE="1000-2499")["Range"] == "0-2499"
    done = reg.request("PUT", f"{location}?digest={sha256(layer)}", layer[2500:], HTTP_CONTENT_RANGE="2500-2999")
    assert done.status_code == 201, done.content
    assert blob_object(s3_blobs, layer) == layer
    assert leftovers(s3_blobs, session.pk) == []

    config = b'{"architecture":"amd64","os":"linux","id":"%s"}' % os.urandom(8).hex().encode()
    config_digest = reg.push_blob(NAME, config)  # monolithic: one PUT of its own, then moved
    assert blob_object(s3_blobs, config) == config
    response, _body = reg.push_manifest(NAME, "v1", image_manifest(config_digest, len(config), [(sha256(layer), len(layer))]), OCI_MANIFEST)
    assert response.status_code == 201, response.content
    assert pulled_bytes(reg.request("GET", f"/v2/{NAME}/blobs/{sha256(layer)}")) == layer


def test_a_session_broken_off_and_continued_on_another_node_verifies_its_digest(personas, registry, s3_blobs, settings):
    settings.S3_UPLOAD_PART_BYTES = part = 5 * MiB  # S3's smallest
    reg = registry(personas.alpha_registry_user)
    data = os.urandom(part + 5000)
    location = reg.start_upload(NAME)
    session = UploadSession.objects.get()

    def breaking_off():
        yield from chunks_of(data[:part + 300])
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        uploads.upload_session_append(session=session, chunks=breaking_off())
    # Another node would have only the row and the bucket: nothing of the request is kept in a process.
    assert reg.request("GET", location)["Range"] == f"0-{part + 299}"
    state = UploadSession.objects.get().object_state
    assert [size for _number, _etag, size in state["parts"]] == [part] and state["tail_size"] == 300

    patched = reg.request("PATCH", location, data[part + 300:part + 1300], HTTP_CONTENT_RANGE=f"{part + 300}-{part + 1299}")
    assert patched["Range"] == f"0-{part + 1299}"
    done = reg.request("PUT", f"{location}?digest={sha256(data)}", data[part + 1300:])
    assert done.status_code == 201, done.content
    assert blob_object(s3_blobs, data) == data
    assert leftovers(s3_blobs, session.pk) == []


def test_a_monolithic_upload_larger_than_a_part_is_stored_whole(personas, registry, s3_blobs, settings):
    settings.S3_UPLOAD_PART_BYTES = 5 * MiB
    reg = registry(personas.alpha_registry_user)
    data = os.urandom(5 * MiB + 100)
    reg.push_blob(NAME, data)
    assert blob_object(s3_blobs, data) == data


def test_a_wrong_digest_stores_nothing_and_leaves_nothing(personas, registry, s3_blobs):
    reg = registry(personas.alpha_registry_user)
    data, claimed = os.urandom(2000), os.urandom(2000)
    location = reg.request("POST", f"/v2/{NAME}/blobs/uploads/")["Location"]
    reg.request("PATCH", location, data[:1000], HTTP_CONTENT_RANGE="0-999")
    session = UploadSession.objects.get()
    response = reg.request("PUT", f"{location}?digest={sha256(claimed)}", data[1000:])
    assert response.status_code == 400 and error_codes(response) == ["DIGEST_INVALID"]
    assert not Blob.objects.exists() and not UploadSession.objects.exists()
    store = get_blob_store()
    assert not store.exists(sha256(claimed)) and not store.exists(sha256(data))
    assert leftovers(s3_blobs, session.pk) == []


def test_a_bucket_that_does_not_answer_is_503_and_the_saved_range_stands(personas, registry, s3_blobs, settings):
    reg = registry(personas.alpha_registry_user)
    location = reg.request("POST", f"/v2/{NAME}/blobs/uploads/")["Location"]
    reg.request("PATCH", location, os.urandom(1000), HTTP_CONTENT_RANGE="0-999")
    working = settings.STORAGES
    settings.STORAGES = {**working, "blobs": {**working["blobs"], "OPTIONS": {
        **working["blobs"]["OPTIONS"], "endpoint_url": f"http://127.0.0.1:{free_port()}",
        "client_config": Config(retries={"max_attempts": 1}, connect_timeout=1),
    }}}
    response = reg.request("PATCH", location, os.urandom(500), HTTP_CONTENT_RANGE="1000-1499")
    assert response.status_code == 503 and error_codes(response) == ["UNAVAILABLE"]
    settings.STORAGES = working
    assert reg.request("GET", location)["Range"] == "0-999"


def test_a_bucket_that_does_not_answer_at_the_commit_keeps_the_upload_for_a_retry(personas, registry, s3_blobs, settings):
    # The PUT ?digest= that completes the upload is the one request of a push that reaches the
    # bucket without a body: an outage there must delay the push, not discard what was uploaded.
    reg = registry(personas.alpha_registry_user)
    data = os.urandom(1000)
    location = reg.request("POST", f"/v2/{NAME}/blobs/uploads/")["Location"]
    reg.request("PATCH", location, data, HTTP_CONTENT_RANGE="0-999")
    working = settings.STORAGES
    settings.STORAGES = {**working, "blobs": {**working["blobs"], "OPTIONS": {
        **working["blobs"]["OPTIONS"], "endpoint_url": f"http://127.0.0.1:{free_port()}",
        "client_config": Config(retries={"max_attempts": 1}, connect_timeout=1),
    }}}
    response = reg.request("PUT", f"{location}?digest={sha256(data)}")
    assert response.status_code == 503 and error_codes(response) == ["UNAVAILABLE"]
    settings.STORAGES = working
    assert reg.request("GET", location)["Range"] == "0-999"
    assert reg.request("PUT", f"{location}?digest={sha256(data)}").status_code == 201
    assert blob_object(s3_blobs, data) == data


def test_a_bucket_that_fails_while_the_upload_is_completed_keeps_it_for_a_retry(personas, registry, s3_blobs, monkeypatch):
    # CompleteMultipartUpload is where an outage meets a PUT ?digest= whose bytes are all uploaded.
    from artifacts.blobs import s3_uploads
    from artifacts.blobs.errors import StorageUnavailable

    reg = registry(personas.alpha_registry_user)
    data = os.urandom(1000)
    location = reg.request("POST", f"/v2/{NAME}/blobs/uploads/")["Location"]
    reg.request("PATCH", location, data, HTTP_CONTENT_RANGE="0-999")
    sealing = s3_uploads.S3SessionWriter.seal

    def bucket_down(writer):
        raise StorageUnavailable("completing the multipart upload")

    monkeypatch.setattr(s3_uploads.S3SessionWriter, "seal", bucket_down)
    response = reg.request("PUT", f"{location}?digest={sha256(data)}")
    assert response.status_code == 503 and error_codes(response) == ["UNAVAILABLE"]
    monkeypatch.setattr(s3_uploads.S3SessionWriter, "seal", sealing)
    assert reg.request("GET", location)["Range"] == "0-999"
    assert reg.request("PUT", f"{location}?digest={sha256(data)}").status_code == 201
    assert blob_object(s3_blobs, data) == data


def test_a_bucket_that_refuses_is_the_servers_error_not_a_503_and_the_saved_range_stands(
    personas, client, registry, s3_blobs, settings
):
    # A refusal (here: a wrong secret key) does not go away when the client tries again.
    reg = registry(personas.alpha_registry_user)
    location = reg.request("POST", f"/v2/{NAME}/blobs/uploads/")["Location"]
    reg.request("PATCH", location, os.urandom(1000), HTTP_CONTENT_RANGE="0-999")
    working = settings.STORAGES
    settings.STORAGES = {**working, "blobs": {**working["blobs"], "OPTIONS": {
        **working["blobs"]["OPTIONS"], "secret_key": "not-the-bucket-secret",
    }}}
    client.raise_request_exception = False
    response = reg.request("PATCH", location, os.urandom(500), HTTP_CONTENT_RANGE="1000-1499")
    assert response.status_code == 500 and error_codes(response) == ["UNKNOWN"]
    settings.STORAGES = working
    assert reg.request("GET", location)["Range"] == "0-999"


@pytest.fixture
def small_parts(settings):
    """Parts far below S3's 5 MiB: fine for uploads that are never completed (S3 checks at completion)."""
    settings.S3_UPLOAD_PART_BYTES = 64 * 1024


def a_session_with_parts(reg) -> tuple[str, UploadSession]:
    location = reg.request("POST", f"/v2/{NAME}/blobs/uploads/")["Location"]
    assert reg.request("PATCH", location, os.urandom(200 * 1024)).status_code == 202
    session = UploadSession.objects.get()
    assert len(session.object_state["parts"]) == 3 and session.object_state["tail"]
    return location, session


def test_cancelling_an_upload_aborts_its_multipart_upload(personas, registry, s3_blobs, small_parts):
    reg = registry(personas.alpha_registry_user)
    location, session = a_session_with_parts(reg)
    assert any(item.startswith("multipart") for item in leftovers(s3_blobs, session.pk))
    assert reg.request("DELETE", location).status_code == 204
    assert leftovers(s3_blobs, session.pk) == []


def test_garbage_collection_aborts_abandoned_multipart_uploads(personas, registry, s3_blobs, small_parts):
    reg = registry(personas.alpha_registry_user)
    _location, session = a_session_with_parts(reg)
    # A monolithic upload whose process died mid-body: a multipart upload no session row knows.
    orphan = get_blob_store().writer(f"helm-{os.urandom(8).hex()}")
    orphan.write(os.urandom(100 * 1024))
    assert leftovers(s3_blobs, "helm-")

    later = timezone.now() + timedelta(hours=1)
    gc.blob_collect_garbage(now=later, session_ttl=timedelta(minutes=30))
    assert not UploadSession.objects.exists()
    assert leftovers(s3_blobs, session.pk) == [] and leftovers(s3_blobs, "helm-") == []
