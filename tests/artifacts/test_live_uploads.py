"""Uploads and downloads through gunicorn: chunked request bodies (as docker and skopeo send) and
sendfile-served ranges."""
import hashlib

import pytest

from accounts import services as account_services

pytestmark = pytest.mark.django_db(transaction=True)
NAME = "acme/alpha/live"


def _chunks(data: bytes, size: int = 64 * 1024):
    for start in range(0, len(data), size):
        yield data[start:start + size]


def test_a_chunked_transfer_encoded_upload_is_streamed_and_served_with_ranges(personas, live_server_https):
    key = account_services.api_key_generate(user=personas.alpha_registry_user)
    http = live_server_https.session()
    http.auth = ("$oauthtoken", key)
    base = live_server_https.url
    data = hashlib.sha256(b"seed").digest() * 40000  # 1.28 MB
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    verify = live_server_https.ca_bundle

    started = http.post(f"{base}/v2/{NAME}/blobs/uploads/", verify=verify)
    assert started.status_code == 202, started.text
    location = base + started.headers["Location"]
    patched = http.patch(location, data=_chunks(data[:700000]), verify=verify)  # no Content-Length: chunked
    assert patched.status_code == 202 and patched.headers["Range"] == "0-699999"
    status = http.get(location, verify=verify)
    assert status.status_code == 204 and status.headers["Range"] == "0-699999"
    done = http.put(f"{location}?digest={digest}", data=_chunks(data[700000:]), verify=verify)
    assert done.status_code == 201, done.text

    whole = http.get(f"{base}/v2/{NAME}/blobs/{digest}", verify=verify)
    assert whole.content == data and whole.headers["Docker-Content-Digest"] == digest
    part = http.get(f"{base}/v2/{NAME}/blobs/{digest}", headers={"Range": "bytes=1000-1999"}, verify=verify)
    assert part.status_code == 206 and part.content == data[1000:2000]
    tail = http.get(f"{base}/v2/{NAME}/blobs/{digest}", headers={"Range": "bytes=1200000-"}, verify=verify)
    assert tail.status_code == 206 and tail.content == data[1200000:]
