"""Model and resource downloads with the blobs on S3 (the `s3_server` SeaweedFS): the NGC URL
listing hands out the files' URLs here, each GET of which answers 307 to a fresh presigned GET of
the bucket's object (an empty file is answered here: NVIDIA's `Range: bytes=0--1` gets 200), and
the whole-version zip streams from the bucket."""
import io
import os
import time
import zipfile
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.utils.http import content_disposition_header

from artifacts.versioned.models import ArtifactVersion
from artifacts.versioned.transfers import download

from tests.artifacts.versioned.test_transfers import finalize, make_version
from tests.support.ngc_transfer import DjangoTransport, Uploader
from tests.support.s3_mode import fetch, mirror_local_blobs, switch_to_s3

pytestmark = pytest.mark.django_db
ALPHA = "org/acme/team/alpha"
ODD_NAME = 'docs/Read me "naïve".md'  # a quote and a non-ASCII letter in the download's file name
FILES = {"weights/model.bin": os.urandom(50_003), ODD_NAME: b"# BERT\n", "empty.txt": b""}


@pytest.fixture
def uploaded_on_s3(personas, settings, s3_server, blob_root):
    """Version bert:1.0 with FILES, complete, its blobs moved to the bucket and the store on S3."""
    version = make_version(personas.acme, personas.alpha, "bert", "1.0", personas.alpha_registry_user)
    uploader = Uploader(DjangoTransport(personas.alpha_registry_user), ALPHA, "models", "bert", "1.0")
    uploader.upload_all(FILES, part_size=16_384)
    finalize(version)
    mirror_local_blobs(s3_server, blob_root)
    switch_to_s3(settings, s3_server)
    return uploader.t


def redirect_of(transport, url: str, **headers: str) -> str:
    """The presigned GET a listed URL here answers 307 to."""
    reply = transport.raw("GET", url, headers=headers)
    assert reply.status == 307, (reply.status, reply.content)
    return reply.headers["Location"]


def test_the_url_listing_hands_out_urls_here_that_redirect_to_short_presigned_gets_of_the_bucket(
    uploaded_on_s3, s3_server, settings
):
    settings.S3_PRESIGN_SECONDS = 120
    body = uploaded_on_s3.api("GET", f"/v2/{ALPHA}/models/bert/1.0/files").json()
    urls = dict(zip(body["filepath"], body["urls"], strict=True))

    for path in ("weights/model.bin", ODD_NAME):
        assert urls[path].startswith("http://testserver/v2/transfers/files/"), path
        location = redirect_of(uploaded_on_s3, urls[path])
        assert location.startswith(f"{s3_server.endpoint_url}/{s3_server.bucket}/blobs/sha256/"), path
        assert parse_qs(urlsplit(location).query)["X-Amz-Expires"] == ["120"]
        served = fetch(location)
        assert served.status_code == 200 and served.content == FILES[path], path
        assert served.headers["Content-Disposition"] == content_disposition_header(True, os.path.basename(path))
    chunk = fetch(redirect_of(uploaded_on_s3, urls["weights/model.bin"], Range="bytes=50000-"), Range="bytes=50000-")
    assert chunk.status_code == 206 and chunk.content == FILES["weights/model.bin"][50_000:]
    query = urlencode({"path": ODD_NAME})
    one = uploaded_on_s3.api("GET", f"/v2/{ALPHA}/models/bert/1.0/files?{query}").json()["urls"]
    assert len(one) == 1 and fetch(redirect_of(uploaded_on_s3, one[0])).content == FILES[ODD_NAME]
    # NVIDIA's client asks for an empty file with `Range: bytes=0--1` and needs 200 with no body.
    reply = uploaded_on_s3.raw("GET", urls["empty.txt"], headers={"Range": "bytes=0--1"})
    assert (reply.status, reply.content) == (200, b"")


def test_a_listed_url_still_downloads_after_the_presigned_lifetime_has_passed(uploaded_on_s3, settings):
    """NVIDIA's client lists a version's URLs first and reaches a large version's last range much
    later: the URL it holds outlives REGISTRY_S3_PRESIGN_SECONDS, the bucket's URL does not."""
    settings.S3_PRESIGN_SECONDS = 2  # X-Amz-Date counts whole seconds: a fresh URL has at least 1 s left
    query = urlencode({"path": "weights/model.bin"})
    [listed] = uploaded_on_s3.api("GET", f"/v2/{ALPHA}/models/bert/1.0/files?{query}").json()["urls"]
    first = redirect_of(uploaded_on_s3, listed, Range="bytes=0-9")
    time.sleep(3.2)  # past the presigned GET's lifetime

    expired = fetch(first, Range="bytes=0-9")
    assert expired.status_code == 403 and "expired" in expired.text.lower()
    late = fetch(redirect_of(uploaded_on_s3, listed, Range="bytes=10-19"), Range="bytes=10-19")
    assert late.status_code == 206 and late.content == FILES["weights/model.bin"][10:20]


def test_a_capability_url_issued_before_the_move_redirects_to_the_bucket(personas, settings, s3_server, blob_root):
    version = make_version(personas.acme, personas.alpha, "bert", "1.0", personas.alpha_registry_user)
    uploader = Uploader(DjangoTransport(personas.alpha_registry_user), ALPHA, "models", "bert", "1.0")
    uploader.upload_all({"weights/model.bin": FILES["weights/model.bin"]}, part_size=16_384)
    finalize(version)
    url = uploader.t.api("GET", f"/v2/{ALPHA}/models/bert/1.0/files").json()["urls"][0]
    mirror_local_blobs(s3_server, blob_root)
    switch_to_s3(settings, s3_server)

    reply = uploader.t.raw("GET", url, headers={"Range": "bytes=0-9"})
    head = uploader.t.raw("HEAD", url)

    assert reply.status == 307
    assert fetch(reply.headers["Location"], Range="bytes=0-9").content == FILES["weights/model.bin"][:10]
    assert head.status == 200 and head.headers["Content-Length"] == str(len(FILES["weights/model.bin"]))


def test_the_version_zip_streams_every_file_from_the_bucket_in_bounded_pieces(uploaded_on_s3, monkeypatch):
    archive = uploaded_on_s3.api("GET", f"/v2/{ALPHA}/models/bert/versions/1.0/zip")
    monkeypatch.setattr(download, "ZIP_PIECE", 16_384)
    pieces = list(download.version_zip_stream(ArtifactVersion.objects.get(version="1.0")))

    assert archive.status == 200 and archive.headers["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.content)) as zipped:
        assert {name: zipped.read(name) for name in zipped.namelist()} == FILES
    # The 50 KB file went through in pieces of about ZIP_PIECE, read from the bucket as they go.
    assert b"".join(pieces) == archive.content
    assert len(pieces) >= 4 and max(len(piece) for piece in pieces) < 16_384 + 1024
