"""Blob endpoints: monolithic and chunked uploads, resume, mount, Range, delete, and their errors."""
import hashlib
import os

import pytest

from artifacts.models import Blob, UploadSession
from artifacts.blobs.store import get_blob_store, upload_path
from artifacts.digests import ResumableSha256
from tests.support.oci import error_codes, sha256, sha512

pytestmark = pytest.mark.django_db
NAME = "acme/alpha/app"


@pytest.fixture(autouse=True)
def blob_store_kind(request, settings):
    """Local files, or S3 for the tests marked `on_both_stores` (the bytes streamed by the app in both)."""
    kind = getattr(request, "param", "local")
    if kind == "s3":
        request.getfixturevalue("s3_blobs")
        settings.S3_REDIRECT_DOWNLOADS = False
    return kind


@pytest.fixture
def s3_or_local_leftovers(blob_store_kind, request):
    """A callable listing the upload files (local) or the objects and multipart uploads under
    uploads/ (S3) that appeared since the test began."""
    if blob_store_kind == "s3":
        s3 = request.getfixturevalue("s3_blobs")
        client = s3.client()

        def in_bucket() -> set[str]:
            objects = client.list_objects_v2(Bucket=s3.bucket, Prefix="uploads/").get("Contents", [])
            multipart = client.list_multipart_uploads(Bucket=s3.bucket, Prefix="uploads/").get("Uploads", [])
            return {item["Key"] for item in objects} | {f"multipart {item['Key']}" for item in multipart}

        before = in_bucket()
        return lambda: sorted(in_bucket() - before)
    folder = get_blob_store().root / "uploads"
    return lambda: sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# The upload paths run on both stores; the rest do not touch bytes differently on S3.
on_both_stores = pytest.mark.parametrize("blob_store_kind", ["local", "s3"], indirect=True)


@on_both_stores
def test_a_monolithic_upload_with_the_digest_stores_the_blob(personas, registry):
    reg = registry(personas.alpha_registry_user)
    data = b"hello blob" * 1000
    response = reg.request("POST", f"/v2/{NAME}/blobs/uploads/?digest={sha256(data)}", data)
    assert response.status_code == 201
    assert response["Location"] == f"/v2/{NAME}/blobs/{sha256(data)}"
    assert response["Docker-Content-Digest"] == sha256(data)
    head = reg.request("HEAD", f"/v2/{NAME}/blobs/{sha256(data)}")
    assert head.status_code == 200 and head["Content-Length"] == str(len(data))
    got = reg.request("GET", f"/v2/{NAME}/blobs/{sha256(data)}")
    assert b"".join(got.streaming_content) == data


@on_both_stores
def test_post_then_put_uploads_a_blob(personas, registry):
    reg = registry(personas.alpha_registry_user)
    started = reg.request("POST", f"/v2/{NAME}/blobs/uploads/")
    assert started.status_code == 202 and started["Range"] == "0-0"
    data = b"x" * 5000
    done = reg.request("PUT", f"{started['Location']}?digest={sha256(data)}", data)
    assert done.status_code == 201
    assert get_blob_store().stat(sha256(data)).size == 5000


# --- a session a POST starts: pending (no row) until its first PATCH ------------------------------


@on_both_stores
def test_a_post_stores_nothing_and_its_signed_url_reports_an_empty_upload(personas, registry):
    reg = registry(personas.alpha_registry_user)
    started = reg.request("POST", f"/v2/{NAME}/blobs/uploads/")
    assert started.status_code == 202 and started["Range"] == "0-0"
    session_id, expires_at, signature = started["Location"].rsplit("/", 1)[1].split(".")
    assert session_id == started["Docker-Upload-UUID"] and expires_at.isdigit() and signature
    assert not UploadSession.objects.exists()
    status = reg.request("GET", started["Location"])
    assert status.status_code == 204 and status["Range"] == "0-0" and status["Location"] == started["Location"]
    assert reg.request("DELETE", started["Location"]).status_code == 204  # nothing was stored: nothing to drop
    assert not UploadSession.objects.exists()


@on_both_stores
def test_a_put_of_the_whole_blob_after_a_post_stores_it_with_no_session_and_no_leftovers(personas, registry, s3_or_local_leftovers):
    reg = registry(personas.alpha_registry_user)
    location = reg.request("POST", f"/v2/{NAME}/blobs/uploads/")["Location"]
    data = os.urandom(64 * 1024)
    done = reg.request("PUT", f"{location}?digest={sha256(data)}", data, HTTP_CONTENT_RANGE=f"0-{len(data) - 1}")
    assert done.status_code == 201 and done["Docker-Content-Digest"] == sha256(data)
    assert b"".join(reg.request("GET", f"/v2/{NAME}/blobs/{sha256(data)}").streaming_content) == data
    assert not UploadSession.objects.exists() and s3_or_local_leftovers() == []


@on_both_stores
def test_a_put_after_a_post_with_another_digest_stores_nothing(personas, registry, s3_or_local_leftovers):
    reg = registry(personas.alpha_registry_user)
    location = reg.request("POST", f"/v2/{NAME}/blobs/uploads/")["Location"]
    response = reg.request("PUT", f"{location}?digest={sha256(b'other')}", b"content")
    assert response.status_code == 400 and error_codes(response) == ["DIGEST_INVALID"]
    assert not Blob.objects.exists() and not UploadSession.objects.exists() and s3_or_local_leftovers() == []
    assert not get_blob_store().exists(sha256(b"content"))


def test_a_put_after_a_post_that_does_not_start_at_zero_is_refused_with_416(personas, registry):
    reg = registry(personas.alpha_registry_user)
    location = reg.request("POST", f"/v2/{NAME}/blobs/uploads/")["Location"]
    response = reg.request("PUT", f"{location}?digest={sha256(b'abc')}", b"abc", HTTP_CONTENT_RANGE="10-12")
    assert response.status_code == 416 and response["Range"] == "0-0" and response["Location"] == location
    assert not Blob.objects.exists()


def test_the_first_patch_makes_the_session_row_and_answers_with_its_url(personas, registry):
    reg = registry(personas.alpha_registry_user)
    location = reg.request("POST", f"/v2/{NAME}/blobs/uploads/")["Location"]
    patched = reg.request("PATCH", location, b"a" * 100)
    session = UploadSession.objects.get()
    assert patched.status_code == 202 and patched["Range"] == "0-99"
    assert patched["Location"] == f"/v2/{NAME}/blobs/uploads/{session.pk}" and session.offset == 100
    assert session.created_by == personas.alpha_registry_user
    # the signed URL now names the row: a second PATCH there appends, it does not start over
    assert reg.request("PATCH", location, b"b" * 100, HTTP_CONTENT_RANGE="100-199")["Range"] == "0-199"
    done = reg.request("PUT", f"{location}?digest={sha256(b'a' * 100 + b'b' * 100)}")
    assert done.status_code == 201 and not UploadSession.objects.exists()


def test_an_upload_url_whose_signature_is_forged_expired_or_of_another_repository_is_unknown(personas, registry):
    from artifacts.blobs import uploads

    reg = registry(personas.owner)
    reg.push_blob("acme/alpha/other", b"creates the other repository")
    location = reg.request("POST", f"/v2/{NAME}/blobs/uploads/")["Location"]
    segment = location.rsplit("/", 1)[1]
    expired = uploads.upload_session_start(repository_name=NAME, now=0).segment
    for url in (
        f"/v2/{NAME}/blobs/uploads/{segment[:-2]}xy",  # forged
        f"/v2/{NAME}/blobs/uploads/{segment.split('.')[0]}",  # no signature, no row
        f"/v2/{NAME}/blobs/uploads/{expired}",
        f"/v2/acme/alpha/other/blobs/uploads/{segment}",  # signed for another repository
    ):
        for method in ("GET", "PATCH", "PUT", "DELETE"):
            response = reg.request(method, f"{url}?digest={sha256(b'x')}" if method == "PUT" else url, b"x")
            assert response.status_code == 404 and error_codes(response) == ["BLOB_UPLOAD_UNKNOWN"], (url, method)
    assert not UploadSession.objects.exists() and not Blob.objects.filter(digest=sha256(b"x")).exists()


def test_a_signed_upload_url_does_not_let_a_member_without_push_write(personas, registry):
    location = registry(personas.alpha_registry_user).request("POST", f"/v2/{NAME}/blobs/uploads/")["Location"]
    for persona in (personas.alpha_user_read, personas.beta_user):
        reg = registry(persona)
        for method in ("PATCH", "PUT"):
            response = reg.request(method, f"{location}?digest={sha256(b'x')}" if method == "PUT" else location, b"x")
            assert response.status_code in (401, 403), (persona, method, response.status_code)
    assert not UploadSession.objects.exists() and not Blob.objects.exists()


@on_both_stores
def test_a_sha512_digest_is_accepted(personas, registry):
    reg = registry(personas.alpha_registry_user)
    data = b"sha512 content"
    response = reg.request("POST", f"/v2/{NAME}/blobs/uploads/?digest={sha512(data)}", data)
    assert response.status_code == 201
    assert reg.request("HEAD", f"/v2/{NAME}/blobs/{sha512(data)}").status_code == 200


@on_both_stores
def test_chunked_upload_reports_progress_and_resumes(personas, registry):
    reg = registry(personas.alpha_registry_user)
    location = reg.request("POST", f"/v2/{NAME}/blobs/uploads/")["Location"]
    data = bytes(range(256)) * 40
    first = reg.request("PATCH", location, data[:4000], HTTP_CONTENT_RANGE="0-3999")
    assert first.status_code == 202 and first["Range"] == "0-3999"
    # The client lost track (dropped connection): it asks where the upload stands and resumes there.
    status = reg.request("GET", location)
    assert status.status_code == 204 and status["Range"] == "0-3999" and status["Location"] == first["Location"]
    second = reg.request("PATCH", location, data[4000:8000], HTTP_CONTENT_RANGE="4000-7999")
    assert second["Range"] == "0-7999"
    done = reg.request("PUT", f"{location}?digest={sha256(data)}", data[8000:], HTTP_CONTENT_RANGE=f"8000-{len(data) - 1}")
    assert done.status_code == 201
    assert b"".join(reg.request("GET", f"/v2/{NAME}/blobs/{sha256(data)}").streaming_content) == data


@on_both_stores
def test_a_dropped_connection_keeps_the_bytes_received_for_a_resume(personas, registry, client):
    from artifacts.blobs import uploads

    reg = registry(personas.alpha_registry_user)
    location = reg.start_upload(NAME)
    session = UploadSession.objects.get()

    def dropping():
        yield b"a" * 1000
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        uploads.upload_session_append(session=session, chunks=dropping())
    assert reg.request("GET", location)["Range"] == "0-999"
    reg.request("PATCH", location, b"b" * 500, HTTP_CONTENT_RANGE="1000-1499")
    data = b"a" * 1000 + b"b" * 500
    assert reg.request("PUT", f"{location}?digest={sha256(data)}").status_code == 201


# --- the running sha256 saved with the offset (local files; S3: test_blob_uploads_s3.py) ----------


@pytest.fixture
def prefix_reads(monkeypatch):
    """The lengths of upload-file prefixes read back and re-hashed (by the session writer's fallback,
    or by the verification of a non-sha256 digest): [] when no stored upload byte was read again."""
    from artifacts.blobs import store, uploads

    reads: list[int | None] = []

    def spy(real):
        def hash_file(hasher, handle, *, length=None):
            reads.append(length)
            return real(hasher, handle, length=length)
        return hash_file

    monkeypatch.setattr(store, "hash_file", spy(store.hash_file))
    monkeypatch.setattr(uploads, "hash_file", spy(uploads.hash_file))
    return reads


def saved_sha256(session_id) -> str:
    return ResumableSha256(UploadSession.objects.get(pk=session_id).object_state["sha256"]).hexdigest()


def test_each_checkpoint_saves_the_sha256_of_exactly_the_bytes_stored_and_a_resume_reads_none_back(
    personas, registry, prefix_reads
):
    """No process keeps anything of a session between requests: the next PATCH or PUT (in any worker
    process) goes on hashing from the state in the row."""
    reg = registry(personas.alpha_registry_user)
    location = reg.request("POST", f"/v2/{NAME}/blobs/uploads/")["Location"]
    data = os.urandom(3000)
    reg.request("PATCH", location, data[:1000], HTTP_CONTENT_RANGE="0-999")
    session_id = UploadSession.objects.get().pk
    assert saved_sha256(session_id) == hashlib.sha256(data[:1000]).hexdigest()
    reg.request("PATCH", location, data[1000:2000], HTTP_CONTENT_RANGE="1000-1999")
    assert saved_sha256(session_id) == hashlib.sha256(data[:2000]).hexdigest()
    done = reg.request("PUT", f"{location}?digest={sha256(data)}", data[2000:], HTTP_CONTENT_RANGE="2000-2999")
    assert done.status_code == 201
    assert prefix_reads == []
    assert b"".join(reg.request("GET", f"/v2/{NAME}/blobs/{sha256(data)}").streaming_content) == data


def test_a_session_saved_without_a_hash_state_is_re_hashed_from_its_file(personas, registry, prefix_reads):
    """A session saved before the state was (or whose state another store wrote) still completes."""
    reg = registry(personas.alpha_registry_user)
    location = reg.request("POST", f"/v2/{NAME}/blobs/uploads/")["Location"]
    reg.request("PATCH", location, b"a" * 1000, HTTP_CONTENT_RANGE="0-999")
    UploadSession.objects.update(object_state=None)
    data = b"a" * 1000 + b"b" * 500
    assert reg.request("PUT", f"{location}?digest={sha256(data)}", b"b" * 500, HTTP_CONTENT_RANGE="1000-1499").status_code == 201
    assert prefix_reads == [1000]


def test_after_a_restart_the_file_is_re_hashed_so_bytes_the_machine_lost_are_refused(personas, registry, prefix_reads):
    """The state is trusted only in the boot that saved it: the bytes were flushed, not synced, and a
    crash may lose them while the row keeps its offset."""
    reg = registry(personas.alpha_registry_user)
    location = reg.request("POST", f"/v2/{NAME}/blobs/uploads/")["Location"]
    reg.request("PATCH", location, b"a" * 1000, HTTP_CONTENT_RANGE="0-999")
    session = UploadSession.objects.get()
    UploadSession.objects.update(object_state={**UploadSession.objects.get().object_state, "boot": "an-earlier-boot"})
    with open(get_blob_store().root / upload_path(str(session.pk)), "r+b") as upload_file:
        upload_file.write(b"\0" * 1000)  # what the crash left of the file
    data = b"a" * 1000 + b"b" * 500
    response = reg.request("PUT", f"{location}?digest={sha256(data)}", b"b" * 500, HTTP_CONTENT_RANGE="1000-1499")
    assert error_codes(response) == ["DIGEST_INVALID"]
    assert prefix_reads == [1000]
    assert not Blob.objects.exists()


def test_a_body_broken_off_between_storing_and_hashing_a_chunk_saves_no_state_and_the_resume_re_hashes(
    personas, registry, prefix_reads, monkeypatch
):
    from artifacts.blobs import uploads

    reg = registry(personas.alpha_registry_user)
    location = reg.start_upload(NAME)
    session = UploadSession.objects.get()
    real_update = ResumableSha256.update

    def failing_on_b(self, data):
        if bytes(data).startswith(b"b"):
            raise MemoryError("hashing failed after the file took the chunk")
        real_update(self, data)

    monkeypatch.setattr(ResumableSha256, "update", failing_on_b)
    with pytest.raises(MemoryError):
        uploads.upload_session_append(session=session, chunks=iter([b"a" * 1000, b"b" * 500]))
    monkeypatch.setattr(ResumableSha256, "update", real_update)
    saved = UploadSession.objects.get()
    assert saved.offset == 1500 and saved.object_state is None  # the file holds 1,500 bytes, the hash covered 1,000
    data = b"a" * 1000 + b"b" * 500 + b"c" * 100
    assert reg.request("PUT", f"{location}?digest={sha256(data)}", b"c" * 100, HTTP_CONTENT_RANGE="1500-1599").status_code == 201
    assert prefix_reads == [1500]


def test_a_large_chunk_whose_write_fails_while_it_is_hashed_saves_no_state_and_the_resume_re_hashes(
    personas, registry, prefix_reads, monkeypatch
):
    """A piece this large is hashed on a helper thread while it is written (hash_alongside): when the
    write fails, the hash has taken bytes the file has not, so the checkpoint must not save it."""
    from artifacts.blobs import uploads
    from artifacts.blobs.store import LocalWriter
    from artifacts.digests import HASH_ALONGSIDE_MIN

    reg = registry(personas.alpha_registry_user)
    location = reg.start_upload(NAME)
    session = UploadSession.objects.get()
    real_write = LocalWriter.write

    def failing_on_b(self, data):
        if bytes(data[:1]) == b"b":
            raise OSError(28, "No space left on device")
        real_write(self, data)

    monkeypatch.setattr(LocalWriter, "write", failing_on_b)
    with pytest.raises(OSError):
        uploads.upload_session_append(session=session, chunks=iter([b"a" * 1000, b"b" * HASH_ALONGSIDE_MIN]))
    monkeypatch.setattr(LocalWriter, "write", real_write)
    saved = UploadSession.objects.get()
    assert saved.offset == 1000 and saved.object_state is None  # the file holds 1,000 bytes, the hash took more
    data = b"a" * 1000 + b"c" * 100
    assert reg.request("PUT", f"{location}?digest={sha256(data)}", b"c" * 100, HTTP_CONTENT_RANGE="1000-1099").status_code == 201
    assert prefix_reads == [1000]


def test_an_out_of_order_chunk_is_refused_with_416(personas, registry):
    reg = registry(personas.alpha_registry_user)
    location = reg.request("POST", f"/v2/{NAME}/blobs/uploads/")["Location"]
    reg.request("PATCH", location, b"a" * 100, HTTP_CONTENT_RANGE="0-99")
    response = reg.request("PATCH", location, b"b" * 100, HTTP_CONTENT_RANGE="200-299")
    assert response.status_code == 416
    assert response["Range"] == "0-99"
    assert error_codes(response) == ["BLOB_UPLOAD_INVALID"]


@on_both_stores
def test_a_digest_mismatch_is_digest_invalid_and_stores_nothing(personas, registry):
    reg = registry(personas.alpha_registry_user)
    response = reg.request("POST", f"/v2/{NAME}/blobs/uploads/?digest={sha256(b'other')}", b"content")
    assert response.status_code == 400 and error_codes(response) == ["DIGEST_INVALID"]
    assert not Blob.objects.exists() and not UploadSession.objects.exists()
    assert not get_blob_store().exists(sha256(b"content"))


def test_an_unknown_blob_is_blob_unknown(personas, registry):
    reg = registry(personas.alpha_registry_user)
    reg.push_blob(NAME, b"something")
    response = reg.request("GET", f"/v2/{NAME}/blobs/{sha256(b'missing')}")
    assert response.status_code == 404 and error_codes(response) == ["BLOB_UNKNOWN"]


def test_an_unknown_upload_session_is_blob_upload_unknown(personas, registry):
    reg = registry(personas.alpha_registry_user)
    reg.push_blob(NAME, b"something")
    for session in ("00000000-0000-0000-0000-000000000000", "not-a-uuid"):
        response = reg.request("GET", f"/v2/{NAME}/blobs/uploads/{session}")
        assert response.status_code == 404 and error_codes(response) == ["BLOB_UPLOAD_UNKNOWN"]


@on_both_stores
def test_a_cancelled_upload_is_gone(personas, registry):
    reg = registry(personas.alpha_registry_user)
    location = reg.request("POST", f"/v2/{NAME}/blobs/uploads/")["Location"]
    location = reg.request("PATCH", location, b"abc")["Location"]  # the session's URL from now on (its row's)
    assert reg.request("DELETE", location).status_code == 204
    assert error_codes(reg.request("GET", location)) == ["BLOB_UPLOAD_UNKNOWN"]


def test_a_range_request_gets_206_with_the_slice(personas, registry):
    reg = registry(personas.alpha_registry_user)
    data = bytes(range(256))
    digest = reg.push_blob(NAME, data)
    response = reg.request("GET", f"/v2/{NAME}/blobs/{digest}", HTTP_RANGE="bytes=10-19")
    assert response.status_code == 206
    assert response["Content-Range"] == "bytes 10-19/256" and response["Content-Length"] == "10"
    assert b"".join(response.streaming_content) == data[10:20]
    tail = reg.request("GET", f"/v2/{NAME}/blobs/{digest}", HTTP_RANGE="bytes=250-")
    assert b"".join(tail.streaming_content) == data[250:]
    assert reg.request("GET", f"/v2/{NAME}/blobs/{digest}", HTTP_RANGE="bytes=300-").status_code == 416


def test_a_mount_from_a_repository_the_user_may_pull_links_the_blob(personas, registry):
    reg = registry(personas.owner)
    digest = reg.push_blob("acme/alpha/source", b"shared layer")
    response = reg.request("POST", f"/v2/acme/alpha/target/blobs/uploads/?mount={digest}&from=acme/alpha/source")
    assert response.status_code == 201 and response["Docker-Content-Digest"] == digest
    assert reg.request("HEAD", f"/v2/acme/alpha/target/blobs/{digest}").status_code == 200


def test_a_mount_from_a_repository_the_user_may_not_pull_falls_back_to_an_upload(personas, registry):
    digest = registry(personas.owner).push_blob("acme/beta/secret", b"beta layer")
    reg = registry(personas.alpha_registry_user)
    response = reg.request("POST", f"/v2/{NAME}/blobs/uploads/?mount={digest}&from=acme/beta/secret")
    assert response.status_code == 202 and "/blobs/uploads/" in response["Location"]
    assert reg.request("GET", f"/v2/{NAME}/blobs/{digest}").status_code == 404


def test_deleting_a_blob_removes_it_from_the_repository(personas, registry):
    reg = registry(personas.alpha_registry_admin)
    digest = reg.push_blob(NAME, b"to delete")
    assert reg.request("DELETE", f"/v2/{NAME}/blobs/{digest}").status_code == 202
    assert reg.request("HEAD", f"/v2/{NAME}/blobs/{digest}").status_code == 404


def test_a_head_that_misses_answers_without_a_body(personas, registry, rf):
    """gunicorn drops a HEAD answer's body and logs a warning for each that had one (every layer of a
    docker push is HEADed first). Called directly: the test client drops HEAD bodies itself."""
    from artifacts.oci import views
    from tests.support.auth import basic_auth_for

    registry(personas.alpha_registry_user).push_blob(NAME, b"creates the repository")
    digest = sha256(b"missing")
    request = rf.head(f"/v2/{NAME}/blobs/{digest}", HTTP_AUTHORIZATION=basic_auth_for(personas.alpha_registry_user))
    response = views.blob(request, name=NAME, digest=digest)
    assert response.status_code == 404 and response.content == b""
