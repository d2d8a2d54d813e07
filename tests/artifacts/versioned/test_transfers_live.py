"""The model transfer protocol over real HTTPS (gunicorn) with finalisation in the request (or by
the real Celery worker): parts in parallel threads and out of order, a retried part, a transfer cut
mid-part and resumed, tampered storage, ranged downloads and the zip."""
import hashlib
import io
import random
import socket
import ssl
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest

from accounts import services as account_services
from artifacts.versioned.models import ArtifactVersion, VersionedArtifact, VersionStatus
from artifacts.versioned.transfer_models import MultipartUpload
from tests.artifacts.versioned.test_transfers import make_version
from tests.support.ngc_transfer import HttpTransport, Uploader, b64sha, hexsha
from tests.support.waiting import wait_for_status

pytestmark = pytest.mark.django_db(transaction=True)

ALPHA = "org/acme/team/alpha"
PART = 64 * 1024


def _bytes(seed: str, size: int) -> bytes:
    out, block = bytearray(), seed.encode()
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:size])


TREE = {
    "model.onnx": _bytes("model", 5 * PART + 123),  # 6 parts
    "tokenizer/vocab.txt": _bytes("vocab", 3000),
    "tokenizer/deep/er/merges.txt": _bytes("merges", PART),  # exactly one part
    "EMPTY": b"",
}


@pytest.fixture
def http(personas, live_server_https):
    key = account_services.api_key_generate(user=personas.alpha_registry_user)
    return HttpTransport(live_server_https, key)


def upload_in_parallel(up: Uploader, path: str, data: bytes) -> None:
    """Start, PUT the parts from 4 threads in shuffled order (one part sent wrong, then again), complete."""
    started = up.start(path, data, part_size=PART)
    assert started.status == 200, started.content
    body = started.json()
    assert body["urls"][0].startswith(up.t.base)
    numbers = list(range(len(body["urls"])))
    random.Random(path).shuffle(numbers)

    def send(number: int):
        piece = data[number * PART:(number + 1) * PART]
        if number == numbers[0] and piece:
            assert up.put_part(body["urls"][number], bytes(len(piece))).status == 200  # wrong bytes…
        return up.put_part(body["urls"][number], piece).status  # …retried right

    with ThreadPoolExecutor(4) as pool:
        assert set(pool.map(send, numbers)) == {200}
    done = up.complete(path, body["uploadID"], b64sha(data))
    assert done.status == 200, done.content


def test_a_tree_is_uploaded_in_parallel_finalised_by_the_worker_and_downloaded(personas, http, celery_worker):
    created = http.api("POST", f"/v2/{ALPHA}/models", {"name": "bert", "shortDescription": "BERT"})
    assert created.status == 200, created.content
    assert http.api("POST", f"/v2/{ALPHA}/models/bert/versions", {"versionId": "1.0"}).status == 200
    version = ArtifactVersion.objects.get(artifact__name="bert", version="1.0")
    up = Uploader(http, ALPHA, "models", "bert", "1.0")
    assert not any(item["exists"] for item in up.exists(list(TREE.values())).json()["files"])
    for path, data in TREE.items():
        upload_in_parallel(up, path, data)
    assert up.commit(TREE).status == 200
    assert http.api("GET", f"/v2/{ALPHA}/models/bert/1.0/files").status == 409  # nothing half-done is visible

    requested = http.api("PATCH", f"/v2/{ALPHA}/models/bert/versions/1.0", {"status": "UPLOAD_COMPLETE"})
    assert requested.status == 200, requested.content
    # Every blob was verified at complete, so the request itself finalised the version.
    assert requested.json()["modelVersion"]["status"] == "UPLOAD_COMPLETE"
    version.refresh_from_db()
    done = version
    assert done.status == VersionStatus.UPLOAD_COMPLETE, done.failure_reason
    assert (done.total_file_count, done.total_size_bytes) == (4, sum(map(len, TREE.values())))
    assert VersionedArtifact.objects.get(pk=version.artifact_id).latest_version_id == version.pk
    assert not MultipartUpload.objects.filter(version=version).exists()

    listing = http.api("GET", f"/v2/{ALPHA}/models/bert/1.0/files").json()
    urls = dict(zip(listing["filepath"], listing["urls"]))
    assert sorted(urls) == sorted(TREE)
    for path, data in TREE.items():
        if not data:
            got = http.raw("GET", urls[path], headers={"Range": "bytes=0--1"})
            assert got.status == 200 and got.content == b""
            continue
        received = b""
        for start in range(0, len(data), 100_000):  # the client's ranged chunks, smaller
            end = min(start + 100_000, len(data)) - 1
            got = http.raw("GET", urls[path], headers={"Range": f"bytes={start}-{end}"})
            assert got.status == 206 and len(got.content) == end - start + 1
            received += got.content
        assert received == data, path
    whole = http.raw("GET", urls["model.onnx"])
    assert whole.status == 200 and whole.content == TREE["model.onnx"]
    assert whole.headers["Accept-Ranges"] == "bytes"

    archive = http.api("GET", f"/v2/{ALPHA}/models/bert/versions/1.0/zip")
    assert archive.status == 200
    with zipfile.ZipFile(io.BytesIO(archive.content)) as zipped:
        assert zipped.testzip() is None
        assert {name: zipped.read(name) for name in zipped.namelist()} == TREE

    # A second version of the same files: the dedup check knows them all, no bytes are sent.
    second = make_version(personas.acme, personas.alpha, "bert", "1.1", personas.alpha_registry_user)
    again = Uploader(http, ALPHA, "models", "bert", "1.1")
    assert again.upload_all(TREE) == []
    assert http.api("PATCH", f"/v2/{ALPHA}/models/bert/versions/1.1", {"status": "UPLOAD_COMPLETE"}).status == 200
    assert wait_for_status(second).status == VersionStatus.UPLOAD_COMPLETE
    info = http.api("GET", f"/v2/{ALPHA}/models/bert").json()["model"]
    assert info["latestVersionIdStr"] == "1.1"
    assert VersionedArtifact.objects.get(pk=version.artifact_id).latest_version_id == second.pk


def _cut_put(server, url: str, declared: int, body: bytes) -> None:
    """PUT `declared` bytes but send only `body` and hang up: a transfer cut mid-part."""
    parts = urlsplit(url)
    context = ssl.create_default_context(cafile=server.ca_bundle)
    with socket.create_connection((parts.hostname, parts.port)) as raw:
        with context.wrap_socket(raw, server_hostname=parts.hostname) as conn:
            head = (
                f"PUT {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                f"Content-Type: application/octet-stream\r\nContent-Length: {declared}\r\n\r\n"
            )
            conn.sendall(head.encode() + body)


def test_a_transfer_cut_mid_part_is_resumed_with_the_upload_id(personas, http, live_server_https):
    make_version(personas.acme, personas.alpha, "bert", "2.0", personas.alpha_registry_user)
    up = Uploader(http, ALPHA, "models", "bert", "2.0")
    data = _bytes("resume", 3 * PART + 10)  # 4 parts
    body = up.start("big.bin", data, part_size=PART).json()
    assert up.put_part(body["urls"][0], data[:PART]).status == 200
    _cut_put(live_server_https, body["urls"][1], PART, data[PART:PART + 30_000])

    upload = MultipartUpload.objects.get(pk=body["uploadID"])
    time.sleep(0.5)
    upload.refresh_from_db()
    assert upload.received_parts == [1]
    refused = up.complete("big.bin", body["uploadID"], b64sha(data))
    assert refused.status == 409

    resumed = up.start("big.bin", data, upload_id=body["uploadID"], parts=[2, 3, 4])
    assert resumed.status == 200, resumed.content
    again = resumed.json()
    assert again["uploadID"] == body["uploadID"] and len(again["urls"]) == 3
    for number, url in zip((2, 3, 4), again["urls"]):
        assert up.put_part(url, data[(number - 1) * PART:number * PART]).status == 200
    assert up.complete("big.bin", body["uploadID"], b64sha(data)).status == 200
    assert up.commit({"big.bin": data}).status == 200


def test_completion_fails_a_version_whose_stored_bytes_were_tampered_with_or_lost(
    personas, http, celery_worker, live_blob_root
):
    tampered = make_version(personas.acme, personas.alpha, "bert", "3.0", personas.alpha_registry_user)
    up = Uploader(http, ALPHA, "models", "bert", "3.0")
    up.upload_all({"a/ok.bin": b"fine bytes", "a/bad.bin": b"original bytes"}, part_size=PART)
    digest = hexsha(b"original bytes")
    # Verified at complete, so finalisation checks existence and size: tamper with the length.
    (live_blob_root / "blobs" / "sha256" / digest[:2] / digest).write_bytes(b"tampered bytes!")
    assert http.api("PATCH", f"/v2/{ALPHA}/models/bert/versions/3.0", {"status": "UPLOAD_COMPLETE"}).status == 200
    failed = wait_for_status(tampered)
    assert failed.status == VersionStatus.UPLOAD_FAILED
    assert "a/bad.bin" in failed.failure_reason and "bytes in storage" in failed.failure_reason

    lost = make_version(personas.acme, personas.alpha, "bert", "3.1", personas.alpha_registry_user)
    up = Uploader(http, ALPHA, "models", "bert", "3.1")
    up.upload_all({"gone.bin": b"soon gone"}, part_size=PART)
    digest = hexsha(b"soon gone")
    (live_blob_root / "blobs" / "sha256" / digest[:2] / digest).unlink()
    assert http.api("PATCH", f"/v2/{ALPHA}/models/bert/versions/3.1", {"status": "UPLOAD_COMPLETE"}).status == 200
    failed = wait_for_status(lost)
    assert failed.status == VersionStatus.UPLOAD_FAILED and "missing" in failed.failure_reason
    assert VersionedArtifact.objects.get(pk=lost.artifact_id).latest_version_id is None
    assert http.api("GET", f"/v2/{ALPHA}/models/bert/3.1/files").status == 409


def test_personas_over_http(personas, live_server_https, http):
    make_version(personas.acme, personas.alpha, "bert", "4.0", personas.alpha_registry_user)
    reader_key = account_services.api_key_generate(user=personas.alpha_registry_read)
    reader = Uploader(HttpTransport(live_server_https, reader_key), ALPHA, "models", "bert", "4.0")
    assert reader.start("x.bin", b"x").status == 403
    beta_key = account_services.api_key_generate(user=personas.beta_user)
    beta = Uploader(HttpTransport(live_server_https, beta_key), ALPHA, "models", "bert", "4.0")
    assert beta.start("x.bin", b"x").status == 404
    outsider_key = account_services.api_key_generate(user=personas.outsider)
    outsider = Uploader(
        HttpTransport(live_server_https, outsider_key, scope="group/ngc:globex"), ALPHA, "models", "bert", "4.0"
    )
    assert outsider.start("x.bin", b"x").status == 404
    assert not MultipartUpload.objects.exists()
