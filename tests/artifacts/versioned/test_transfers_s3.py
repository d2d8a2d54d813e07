"""Model/resource multipart uploads with the blob store on an S3 bucket (the real SeaweedFS
`s3_server`): the start hands out presigned UploadPart URLs of the bucket, the parts are PUT there
with plain requests and no credentials, and complete assembles, re-hashes and commits them.
(The same protocol with the local store: test_transfers.py.)"""
import os
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from django.utils import timezone

from artifacts.blobs.gc import blob_collect_garbage
from artifacts.blobs.s3_uploads import MIN_PART_SIZE
from artifacts.blobs.store import blob_path, get_blob_store, upload_path
from artifacts.models import Blob
from artifacts.versioned.transfer_models import MultipartUpload
from artifacts.versioned.transfers.capabilities import part_url_path
from tests.artifacts.versioned.test_transfers import ALPHA, make_version
from tests.support.ngc_transfer import DjangoTransport, Reply, Uploader, b64sha, hexsha
from tests.support.servers import free_port

pytestmark = pytest.mark.django_db

TWO_PARTS = MIN_PART_SIZE + 1000  # the smallest file S3 takes in two parts


class BucketTransport(DjangoTransport):
    """API calls through Django's test client; URLs elsewhere (the bucket's) with plain requests."""

    def raw(self, method: str, url: str, data: bytes = b"", headers: dict | None = None) -> Reply:
        if urlsplit(url).netloc in ("", "testserver"):
            return super().raw(method, url, data, headers)
        response = requests.request(method, url, data=data, headers=headers or {}, timeout=30)
        return Reply(response.status_code, response.content, dict(response.headers))


@pytest.fixture
def bucket(settings, s3_server):
    settings.STORAGES = {
        **settings.STORAGES, "blobs": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": s3_server.storage_options()},
    }
    return s3_server.client()


@pytest.fixture
def uploader(personas, bucket):
    make_version(personas.acme, personas.alpha, "bert", "1.0", personas.alpha_registry_user)
    return Uploader(BucketTransport(personas.alpha_registry_user), ALPHA, "models", "bert", "1.0")


def object_keys(bucket, upload_id: str) -> dict[str, bool]:
    """What the bucket holds for one upload: its object, and its multipart upload."""
    key = get_blob_store().key(upload_path(upload_id))
    listed = bucket.list_objects_v2(Bucket=get_blob_store().bucket, Prefix=key).get("Contents", [])
    multipart = bucket.list_multipart_uploads(Bucket=get_blob_store().bucket, Prefix=key).get("Uploads", [])
    return {"object": bool(listed), "multipart": bool(multipart)}


def abort(uploader: Uploader, path: str, upload_id: str) -> Reply:
    body = {"name": "bert", "version": "1.0", "artifactType": "models", "filePath": path, "uploadID": upload_id}
    return uploader.t.api("DELETE", f"/v2/{ALPHA}/files/multipart", body)


def part_of(data: bytes, size: int, number: int) -> bytes:
    return data[(number - 1) * size:number * size]


def test_parts_go_straight_to_the_bucket_and_complete_commits_the_verified_bytes(uploader, bucket, s3_server, settings):
    # Part URLs live REGISTRY_S3_PART_URL_SECONDS: the client holds them all from the start.
    settings.S3_PRESIGN_SECONDS, settings.S3_PART_URL_SECONDS = 60, 7200
    data = os.urandom(TWO_PARTS)
    started = uploader.start("w.bin", data, part_size=4096)  # below S3's minimum: raised to it
    assert started.status == 200, started.content
    body = started.json()
    assert body["partSize"] == MIN_PART_SIZE and body["partNumberList"] == [1, 2]
    for url in body["urls"]:
        assert f"{urlsplit(url).scheme}://{urlsplit(url).netloc}" == s3_server.endpoint_url
        assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == ["7200"]
    for number in (2, 1):  # any order, no credentials
        put = uploader.put_part(body["urls"][number - 1], part_of(data, MIN_PART_SIZE, number))
        assert put.status == 200, put.content

    assert uploader.complete("w.bin", body["uploadID"], b64sha(data)).status == 200
    digest = f"sha256:{hexsha(data)}"
    with get_blob_store().open(digest) as stored:
        assert stored.read() == data
    assert bucket.head_object(Bucket=s3_server.bucket, Key=get_blob_store().key(blob_path(digest)))["ContentLength"] == len(data)
    assert object_keys(bucket, body["uploadID"]) == {"object": False, "multipart": False}
    again = uploader.complete("w.bin", body["uploadID"], b64sha(data))
    assert again.status == 400 and again.json()["requestStatus"]["statusCode"] == "ALREADY_COMPLETED"
    assert uploader.commit({"w.bin": data}).status == 200


def test_a_part_url_puts_that_one_part_of_that_one_upload_and_nothing_else(uploader, bucket, s3_server):
    started = uploader.start("f.bin", b"abcdef").json()
    other = uploader.start("g.bin", b"ghijkl").json()
    url = started["urls"][0]
    assert uploader.put_part(url.replace("X-Amz-Signature=", "X-Amz-Signature=0"), b"abcdef").status == 403
    assert uploader.put_part(url.replace("partNumber=1", "partNumber=2"), b"abcdef").status == 403
    assert uploader.put_part(url.replace(started["uploadID"], other["uploadID"]), b"abcdef").status == 403
    assert uploader.put_part(url.split("?")[0], b"abcdef").status == 403  # the object itself
    assert uploader.t.raw("GET", url).status == 403
    store = get_blob_store()
    listed = bucket.list_parts(
        Bucket=s3_server.bucket, Key=store.key(upload_path(started["uploadID"])), UploadId=parse_qs(urlsplit(url).query)["uploadId"][0]
    )
    assert listed.get("Parts", []) == []
    # Our own part route takes no bytes of an upload whose parts go to the bucket.
    upload = MultipartUpload.objects.get(pk=started["uploadID"])
    refused = uploader.put_part(part_url_path(upload, 1), b"abcdef")
    assert refused.status == 400 and "object storage" in refused.json()["requestStatus"]["statusDescription"]
    for name, upload in (("f.bin", started), ("g.bin", other)):  # leave the run's bucket as found
        assert abort(uploader, name, upload["uploadID"]).status == 200


def test_a_wrong_sha256_is_409_and_leaves_nothing_in_the_bucket(uploader, bucket):
    data = os.urandom(100)
    started = uploader.start("m.bin", data).json()
    assert uploader.put_part(started["urls"][0], data).status == 200
    refused = uploader.complete("m.bin", started["uploadID"], b64sha(b"other bytes"))
    assert refused.status == 409 and "nothing was stored" in refused.json()["requestStatus"]["statusDescription"]
    assert not Blob.objects.exists() and not MultipartUpload.objects.exists()
    assert object_keys(bucket, started["uploadID"]) == {"object": False, "multipart": False}
    assert not get_blob_store().exists(f"sha256:{hexsha(data)}")


def test_missing_or_short_parts_are_409_and_a_resume_hands_out_urls_for_the_asked_parts_only(uploader, bucket):
    data = os.urandom(TWO_PARTS)
    started = uploader.start("r.bin", data, part_size=MIN_PART_SIZE).json()
    resumed = uploader.start("r.bin", data, upload_id=started["uploadID"], parts=[2]).json()
    assert resumed["partNumberList"] == [2] and len(resumed["urls"]) == 1
    assert parse_qs(urlsplit(resumed["urls"][0]).query)["partNumber"] == ["2"]
    assert uploader.put_part(resumed["urls"][0], b"short").status == 200  # the bucket cannot know its length

    missing = uploader.complete("r.bin", started["uploadID"], b64sha(data))
    assert missing.status == 409 and "Parts 1 of 'r.bin'" in missing.json()["detail"]
    assert uploader.put_part(started["urls"][0], part_of(data, MIN_PART_SIZE, 1)).status == 200
    short = uploader.complete("r.bin", started["uploadID"], b64sha(data))
    assert short.status == 409 and "Part 2 of 'r.bin' arrived as 5 bytes, not 1000" in short.json()["detail"]

    again = uploader.start("r.bin", data, upload_id=started["uploadID"], parts=[2]).json()
    assert uploader.put_part(again["urls"][0], part_of(data, MIN_PART_SIZE, 2)).status == 200
    assert uploader.complete("r.bin", started["uploadID"], b64sha(data)).status == 200
    with get_blob_store().open(f"sha256:{hexsha(data)}") as stored:
        assert stored.read() == data


def test_an_empty_file_gets_one_url_and_completes(uploader):
    started = uploader.start("empty", b"").json()
    assert len(started["urls"]) == 1
    assert uploader.put_part(started["urls"][0], b"").status == 200
    assert uploader.complete("empty", started["uploadID"], b64sha(b"")).status == 200
    assert get_blob_store().stat(f"sha256:{hexsha(b'')}").size == 0


def test_abort_and_stale_collection_leave_no_multipart_upload(uploader, bucket):
    aborted, stale, orphan = (uploader.start(name, b"abc").json() for name in ("a.bin", "s.bin", "o.bin"))
    for started in (aborted, stale, orphan):
        assert uploader.put_part(started["urls"][0], b"abc").status == 200
        assert object_keys(bucket, started["uploadID"]) == {"object": False, "multipart": True}
    assert abort(uploader, "a.bin", aborted["uploadID"]).status == 200
    assert object_keys(bucket, aborted["uploadID"]) == {"object": False, "multipart": False}
    assert uploader.put_part(aborted["urls"][0], b"abc").status == 404

    MultipartUpload.objects.filter(pk=orphan["uploadID"]).delete()  # as when its version is deleted
    report = blob_collect_garbage(now=timezone.now() + timedelta(days=30))  # the stale row's, then the orphan
    assert report.sessions_deleted >= 1 and report.multipart_uploads_aborted >= 1  # the bucket is the whole run's
    assert not MultipartUpload.objects.exists()
    for started in (stale, orphan):
        assert object_keys(bucket, started["uploadID"]) == {"object": False, "multipart": False}


def test_a_bucket_that_does_not_answer_is_a_503_the_client_retries(uploader, settings, s3_server):
    data = os.urandom(100)
    started = uploader.start("u.bin", data).json()
    assert uploader.put_part(started["urls"][0], data).status == 200
    no_retries = Config(s3={"addressing_style": "path"}, signature_version="s3v4", retries={"max_attempts": 1})
    gone = {**s3_server.storage_options(), "endpoint_url": f"http://127.0.0.1:{free_port()}", "client_config": no_retries}
    settings.STORAGES = {**settings.STORAGES, "blobs": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": gone}}
    refused = uploader.complete("u.bin", started["uploadID"], b64sha(data))
    assert refused.status == 503 and refused.json()["requestStatus"]["statusCode"] == "TRY_AGAIN"
    assert uploader.start("v.bin", data).status == 503
    settings.STORAGES = {**settings.STORAGES, "blobs": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": s3_server.storage_options()}}
    assert uploader.complete("u.bin", started["uploadID"], b64sha(data)).status == 200  # the retry


def test_a_bucket_that_refuses_is_the_servers_error_and_the_complete_can_be_retried(uploader, settings, s3_server):
    data = os.urandom(100)
    started = uploader.start("r.bin", data).json()
    assert uploader.put_part(started["urls"][0], data).status == 200
    wrong_secret = {**s3_server.storage_options(), "secret_key": "not-the-bucket-secret"}
    settings.STORAGES = {**settings.STORAGES, "blobs": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": wrong_secret}}
    with pytest.raises(ClientError) as refused:  # not TRY_AGAIN: trying again would not help
        uploader.complete("r.bin", started["uploadID"], b64sha(data))
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    settings.STORAGES = {**settings.STORAGES, "blobs": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": s3_server.storage_options()}}
    assert uploader.complete("r.bin", started["uploadID"], b64sha(data)).status == 200
