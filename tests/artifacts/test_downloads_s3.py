"""Registry blob and logo downloads with the blobs on S3 (the `s3_server` SeaweedFS): a blob GET
answers 307 to a presigned GET that serves exactly its bytes (Range included), as distribution's S3
driver does, unless REGISTRY_S3_REDIRECT_DOWNLOADS is off; HEAD, empty blobs and logos are answered
by the app."""
import os
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from artifacts.blobs.store import blob_path
from artifacts.logos import logo_store
from tests.support.oci import error_codes
from tests.support.s3_mode import fetch, mirror_local_blobs, switch_to_s3

pytestmark = pytest.mark.django_db
NAME = "acme/alpha/app"


@pytest.fixture
def on_s3(settings, s3_server, blob_root):
    """Switch the blob store to S3, first copying what the test pushed to local files so far."""

    def switch() -> None:
        mirror_local_blobs(s3_server, blob_root)
        switch_to_s3(settings, s3_server)

    return switch


def _blob_url(digest: str) -> str:
    return f"/v2/{NAME}/blobs/{digest}"


def test_a_blob_get_redirects_to_a_presigned_url_on_the_bucket_that_serves_its_bytes_ranges_and_no_other_object(
    personas, registry, on_s3, s3_server
):
    reg = registry(personas.alpha_registry_user)
    data = os.urandom(70_001)
    digest, other = reg.push_blob(NAME, data), reg.push_blob(NAME, os.urandom(1000))
    on_s3()

    response = reg.request("GET", _blob_url(digest))
    head = reg.request("HEAD", _blob_url(digest))

    assert response.status_code == 307
    location = response["Location"]
    assert location.startswith(f"{s3_server.endpoint_url}/{s3_server.bucket}/{blob_path(digest)}?")
    assert response["Docker-Content-Digest"] == digest
    served = fetch(location)
    assert served.status_code == 200 and served.content == data
    ranged = fetch(location, Range="bytes=1000-1999")
    assert ranged.status_code == 206 and ranged.content == data[1000:2000]
    assert ranged.headers["Content-Range"] == f"bytes 1000-1999/{len(data)}"
    parts = urlsplit(location)
    elsewhere = parts._replace(path=parts.path.replace(str(blob_path(digest)), str(blob_path(other)))).geturl()
    assert fetch(elsewhere).status_code == 403
    # A HEAD is answered here (a presigned GET does not sign a HEAD, and no bytes are needed).
    assert head.status_code == 200 and not head.has_header("Location")
    assert head["Content-Length"] == str(len(data)) and head["Docker-Content-Digest"] == digest


def test_with_redirects_off_the_blob_streams_from_s3_through_the_app(personas, registry, on_s3, settings):
    reg = registry(personas.alpha_registry_user)
    data = os.urandom(300_007)
    digest = reg.push_blob(NAME, data)
    on_s3()
    settings.S3_REDIRECT_DOWNLOADS = False

    whole = reg.request("GET", _blob_url(digest))
    ranged = reg.request("GET", _blob_url(digest), HTTP_RANGE="bytes=200000-200099")

    assert whole.status_code == 200 and whole.streaming and b"".join(whole.streaming_content) == data
    assert ranged.status_code == 206 and b"".join(ranged.streaming_content) == data[200_000:200_100]


def test_an_empty_blob_is_served_by_the_app_and_a_lost_object_is_blob_unknown(personas, registry, on_s3):
    from artifacts.blobs.store import get_blob_store

    reg = registry(personas.alpha_registry_user)
    empty, lost = reg.push_blob(NAME, b""), reg.push_blob(NAME, os.urandom(2000))
    on_s3()
    get_blob_store().delete(lost)

    response = reg.request("GET", _blob_url(empty), HTTP_RANGE="bytes=0--1")
    missing = reg.request("GET", _blob_url(lost))

    assert response.status_code == 200 and b"".join(response.streaming_content) == b""
    assert missing.status_code == 404 and error_codes(missing) == ["BLOB_UNKNOWN"]


def test_a_logo_on_s3_is_streamed_by_the_app_with_its_own_headers(client, cast, on_s3):
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + os.urandom(200)
    logo = logo_store(content=png, media_type="image/png")
    on_s3()
    client.force_login(cast.alpha_registry_user)

    response = client.get(reverse("artifacts:logo", args=[logo.digest]))

    assert response.status_code == 200 and b"".join(response.streaming_content) == png
    assert response["X-Content-Type-Options"] == "nosniff" and not response.has_header("Location")
