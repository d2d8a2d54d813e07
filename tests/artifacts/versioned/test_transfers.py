"""The model/resource transfer protocol through Django's test client: multipart uploads, commit,
dedup scoping, finalisation, downloads, refusals and personas. (Live HTTP and the real Celery
worker: test_transfers_live.py.)"""
import io
import zipfile
from pathlib import Path

import pytest

from registry_portal.errors import InvalidInput
from artifacts.models import Blob
from artifacts.blobs.store import get_blob_store
from artifacts.versioned.transfers import capabilities, multipart, rules, scope
from artifacts.versioned.transfers.finalize import version_finalize, version_request_completion
from artifacts.versioned.models import ArtifactFile, ArtifactVersion, VersionedArtifact, VersionStatus
from artifacts.versioned.transfer_models import MultipartUpload
from tests.support.ngc_transfer import DjangoTransport, Uploader, b64sha, hexsha

pytestmark = pytest.mark.django_db

ALPHA = "org/acme/team/alpha"
TREE = {
    "README.md": b"# model\n",
    "weights/layer1.bin": bytes(range(256)) * 40,  # 10240 bytes: 3 parts of 4096
    "weights/deep/nested/layer2.bin": b"\x01\x02" * 3000,
    "empty.txt": b"",
    "config/copy-of-readme.md": b"# model\n",  # same bytes as README.md: stored once
}


def make_version(org, team, name: str, version: str, user, kind: str = "models") -> ArtifactVersion:
    artifact, _ = VersionedArtifact.objects.get_or_create(
        kind=kind, org=org, team=team, name=name, defaults={"created_by": user}
    )
    return ArtifactVersion.objects.create(artifact=artifact, version=version, created_by=user)


@pytest.fixture
def version(personas):
    return make_version(personas.acme, personas.alpha, "bert", "1.0", personas.alpha_registry_user)


@pytest.fixture
def uploader(personas, version):
    return Uploader(DjangoTransport(personas.alpha_registry_user), ALPHA, "models", "bert", "1.0")


def uploads_dir() -> Path:
    return Path(get_blob_store().root) / "uploads"


def leftover_uploads() -> list[str]:
    return sorted(p.name for p in uploads_dir().glob("*")) if uploads_dir().exists() else []


def finalize(version: ArtifactVersion) -> ArtifactVersion:
    version_request_completion(version=version, actor=version.created_by)
    return version_finalize(version.pk)


# --- the whole protocol ---------------------------------------------------------------------------


def test_a_tree_with_nested_folders_and_an_empty_file_is_uploaded_committed_finalised_and_downloaded(
    personas, version, uploader
):
    sent = uploader.upload_all(TREE, part_size=4096)
    assert sent == ["README.md", "weights/layer1.bin", "weights/deep/nested/layer2.bin", "empty.txt"]
    version.refresh_from_db()
    assert version.status == VersionStatus.UPLOAD_PENDING
    assert sorted(version.files.values_list("path", flat=True)) == sorted(TREE)

    done = finalize(version)
    assert done.status == VersionStatus.UPLOAD_COMPLETE
    assert (done.total_file_count, done.total_size_bytes) == (5, sum(map(len, TREE.values())))
    assert VersionedArtifact.objects.get(pk=version.artifact_id).latest_version_id == version.pk
    assert Blob.objects.filter(digest=f"sha256:{hexsha(TREE['README.md'])}").count() == 1
    assert leftover_uploads() == [] and not MultipartUpload.objects.exists()

    listing = uploader.t.api("GET", f"/v2/{ALPHA}/models/bert/1.0/files")
    assert listing.status == 200, listing.content
    body = listing.json()
    assert body["filepath"] == sorted(TREE) and len(body["urls"]) == 5
    assert body["paginationInfo"]["totalResults"] == 5
    urls = dict(zip(body["filepath"], body["urls"]))
    for path, data in TREE.items():
        got = uploader.t.raw("GET", urls[path])
        assert got.status == 200 and got.content == data, path
    ranged = uploader.t.raw("GET", urls["weights/layer1.bin"], headers={"Range": "bytes=4096-8191"})
    assert ranged.status == 206 and ranged.content == TREE["weights/layer1.bin"][4096:8192]
    assert ranged.headers["Content-Range"] == "bytes 4096-8191/10240"
    empty = uploader.t.raw("GET", urls["empty.txt"], headers={"Range": "bytes=0--1"})
    assert empty.status == 200 and empty.content == b""

    one = uploader.t.api("GET", f"/v2/{ALPHA}/models/bert/1.0/files?path=weights/deep/nested/layer2.bin")
    assert one.status == 200 and len(one.json()["urls"]) == 1

    archive = uploader.t.api("GET", f"/v2/{ALPHA}/models/bert/versions/1.0/zip")
    assert archive.status == 200 and archive.headers["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.content)) as zipped:
        assert {name: zipped.read(name) for name in zipped.namelist()} == TREE


def test_the_download_listing_is_paged_by_total_results_and_size(personas, version, uploader):
    uploader.upload_all(TREE, part_size=4096)
    finalize(version)
    first = uploader.t.api("GET", f"/v2/{ALPHA}/models/bert/1.0/files?page-size=2").json()
    second = uploader.t.api("GET", f"/v2/{ALPHA}/models/bert/1.0/files?page-size=2&page-number=2").json()
    assert first["paginationInfo"] == {"index": 0, "size": 2, "totalResults": 5, "totalPages": 3}
    assert first["filepath"] == sorted(TREE)[:2] and second["filepath"] == sorted(TREE)[4:]


def test_parts_may_arrive_in_any_order_and_a_retried_part_overwrites_its_range(uploader):
    data = bytes(range(256)) * 64  # 16384 bytes: 4 parts of 4096
    started = uploader.start("w.bin", data, part_size=4096).json()
    assert len(started["urls"]) == 4 and started["partSize"] == 4096
    urls = started["urls"]
    for number in (2, 0, 3):
        assert uploader.put_part(urls[number], data[number * 4096:(number + 1) * 4096]).status == 200
    assert uploader.put_part(urls[1], b"\xff" * 4096).status == 200  # a bad first attempt…
    assert uploader.put_part(urls[1], data[4096:8192]).status == 200  # …and its retry
    assert uploader.complete("w.bin", started["uploadID"], b64sha(data)).status == 200
    assert get_blob_store().open(f"sha256:{hexsha(data)}").read() == data


def test_an_empty_file_gets_one_part_url(uploader):
    started = uploader.start("empty", b"").json()
    assert len(started["urls"]) == 1
    assert uploader.put_part(started["urls"][0], b"").status == 200
    assert uploader.complete("empty", started["uploadID"], b64sha(b"")).status == 200


def test_a_resumed_upload_gets_urls_for_the_parts_it_names_only(uploader):
    data = b"abcd" * 3000  # 12000 bytes: 3 parts of 4096
    started = uploader.start("r.bin", data, part_size=4096).json()
    assert uploader.put_part(started["urls"][0], data[:4096]).status == 200
    resumed = uploader.start("r.bin", data, upload_id=started["uploadID"], parts=[2, 3])
    assert resumed.status == 200, resumed.content
    body = resumed.json()
    assert body["uploadID"] == started["uploadID"] and len(body["urls"]) == 2
    assert uploader.put_part(body["urls"][0], data[4096:8192]).status == 200
    assert uploader.put_part(body["urls"][1], data[8192:]).status == 200
    assert uploader.complete("r.bin", started["uploadID"], b64sha(data)).status == 200
    unknown = uploader.start("r.bin", data, upload_id="00000000-0000-0000-0000-000000000000", parts=[1])
    assert unknown.status == 404


# --- integrity --------------------------------------------------------------------------------------


def test_a_sha256_mismatch_at_complete_is_409_and_nothing_is_stored(uploader, version):
    data = b"real bytes"
    started = uploader.start("m.bin", data).json()
    uploader.put_part(started["urls"][0], data)
    claimed = b64sha(b"other bytes")
    refused = uploader.complete("m.bin", started["uploadID"], claimed)
    assert refused.status == 409 and "nothing was stored" in refused.json()["requestStatus"]["statusDescription"]
    assert not Blob.objects.exists() and leftover_uploads() == [] and not MultipartUpload.objects.exists()
    assert uploader.commit({"m.bin": data}).status == 400
    assert not version.files.exists()


def test_the_sha256_declared_at_start_must_match_the_one_at_complete(uploader):
    started = uploader.start("m.bin", b"abc").json()  # declares sha256(b"abc")
    uploader.put_part(started["urls"][0], b"abd")
    assert uploader.complete("m.bin", started["uploadID"], b64sha(b"abd")).status == 409
    assert not Blob.objects.exists()


def test_completing_twice_answers_400_which_the_client_reads_as_done(uploader):
    started = uploader.start("a.bin", b"abc").json()
    uploader.put_part(started["urls"][0], b"abc")
    assert uploader.complete("a.bin", started["uploadID"], b64sha(b"abc")).status == 200
    again = uploader.complete("a.bin", started["uploadID"], b64sha(b"abc"))
    assert again.status == 400 and again.json()["requestStatus"]["statusCode"] == "ALREADY_COMPLETED"


def test_completing_with_parts_missing_is_409(uploader):
    data = b"x" * 5000
    started = uploader.start("p.bin", data, part_size=4096).json()
    uploader.put_part(started["urls"][0], data[:4096])
    refused = uploader.complete("p.bin", started["uploadID"], b64sha(data))
    assert refused.status == 409 and "Parts 2" in refused.json()["detail"]


def test_a_part_of_the_wrong_length_is_refused_and_not_recorded(uploader):
    data = b"y" * 5000
    started = uploader.start("p.bin", data, part_size=4096).json()
    assert uploader.put_part(started["urls"][1], b"y" * 10).status == 400  # part 2 is 904 bytes
    assert uploader.put_part(started["urls"][0], b"y" * 4097).status == 400
    assert MultipartUpload.objects.get().received_parts == []


def test_a_forged_expired_or_misdirected_part_url_is_refused(uploader):
    started = uploader.start("f.bin", b"abcdef", part_size=4096).json()
    url = started["urls"][0]
    assert uploader.put_part(url.replace("sig=", "sig=0"), b"abcdef").status == 403
    assert uploader.put_part(url.replace("/parts/1", "/parts/2"), b"abcdef").status == 403
    expired = capabilities.tokens.capability_signature(
        purpose="upload-part", subject=f"{started['uploadID']}:1", expires_at=1000
    )
    path = f"/v2/transfers/uploads/{started['uploadID']}/parts/1?expires=1000&sig={expired}"
    assert uploader.put_part(path, b"abcdef").status == 403
    assert uploader.t.raw("GET", url).status == 405


def test_an_aborted_upload_leaves_nothing(uploader):
    started = uploader.start("a.bin", b"abc").json()
    body = {"name": "bert", "version": "1.0", "artifactType": "models", "filePath": "a.bin", "uploadID": started["uploadID"]}
    assert uploader.t.api("DELETE", f"/v2/{ALPHA}/files/multipart", body).status == 200
    assert leftover_uploads() == [] and not MultipartUpload.objects.exists()
    assert uploader.put_part(started["urls"][0], b"abc").status == 404


# --- paths ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/etc/passwd", "a/../../b", "..", "a\\b.bin", "nul\x00byte", "a//b", "./a", "C:/x", "ctl\x07"]
)
def test_a_bad_path_is_refused_and_nothing_is_stored(uploader, version, path):
    refused = uploader.start(path, b"data")
    assert refused.status == 400, refused.content
    assert refused.json()["requestStatus"]["statusCode"] == "INVALID_REQUEST"
    assert not MultipartUpload.objects.exists() and leftover_uploads() == []
    assert uploader.commit({path: b"data"}).status == 400
    assert not version.files.exists()


def test_a_path_listed_twice_in_a_commit_is_refused(uploader, version):
    uploader.upload("a.bin", b"abc")
    body = {
        "name": "bert", "version": "1.0", "artifactType": "models",
        "files": [{"commitType": "ADDITION", "filePath": "a.bin", "sha256": b64sha(b"abc")}] * 2,
    }
    assert uploader.t.api("POST", f"/v2/{ALPHA}/files/commit", body).status == 400
    assert not version.files.exists()


def test_a_path_keeps_its_content_and_a_file_cannot_also_be_a_directory(uploader, version):
    uploader.upload("a.bin", b"abc")
    uploader.upload("b.bin", b"xyz")
    assert uploader.commit({"a.bin": b"abc"}).status == 200
    assert uploader.commit({"a.bin": b"abc"}).status == 200  # a retried commit is a no-op
    assert uploader.commit({"a.bin": b"xyz"}).status == 409
    assert uploader.commit({"a.bin/inner": b"xyz"}).status == 409
    assert list(version.files.values_list("path", "sha256")) == [("a.bin", hexsha(b"abc"))]


# --- dedup scope ------------------------------------------------------------------------------------


def test_the_dedup_check_answers_exists_only_for_bytes_the_caller_may_read(personas, uploader, version):
    secret = b"globex weights"
    make_version(personas.globex, None, "rival", "1.0", personas.outsider)
    theirs = Uploader(DjangoTransport(personas.outsider), "org/globex", "models", "rival", "1.0")
    theirs.upload_all({"w.bin": secret})
    assert theirs.exists([secret]).json()["files"][0]["exists"] is True

    answer = uploader.exists([secret]).json()["files"]
    assert answer == [{"sha256": b64sha(secret), "exists": False}]
    refused = uploader.commit({"stolen.bin": secret})
    assert refused.status == 400 and not version.files.exists()

    uploader.upload_all({"w.bin": secret})  # uploading the bytes themselves proves possession
    assert Blob.objects.filter(digest=f"sha256:{hexsha(secret)}").count() == 1
    assert uploader.exists([secret]).json()["files"][0]["exists"] is True


def test_a_team_member_does_not_learn_of_another_teams_files(personas, uploader, version):
    uploader.upload_all({"w.bin": b"alpha only"})
    make_version(personas.acme, personas.beta, "other", "1.0", personas.beta_user)
    beta = Uploader(DjangoTransport(personas.beta_user), "org/acme/team/beta", "models", "other", "1.0")
    assert beta.exists([b"alpha only"]).json()["files"][0]["exists"] is False


def test_the_dedup_scope_costs_the_same_queries_however_many_orgs_and_teams(personas, uploader, version, django_assert_max_num_queries):
    from accounts import services as account_services

    uploader.upload_all({"w.bin": b"alpha bytes"})
    digests = {hexsha(b"alpha bytes"), hexsha(b"unknown")}
    assert scope.blobs_readable(user=personas.owner, hex_digests=digests) == {hexsha(b"alpha bytes")}
    with django_assert_max_num_queries(2):
        scope.blobs_readable(user=personas.owner, hex_digests=digests)
    for i in range(4):
        account_services.team_create(org=personas.acme, actor=personas.owner, name=f"more{i}")
        account_services.org_create(name=f"more-org{i}", owner=personas.owner)
    with django_assert_max_num_queries(2):
        assert scope.blobs_readable(user=personas.owner, hex_digests=digests) == {hexsha(b"alpha bytes")}


def test_a_second_upload_of_the_same_files_sends_no_file_bytes(personas, version, uploader):
    uploader.upload_all(TREE, part_size=4096)
    finalize(version)
    second = make_version(personas.acme, personas.alpha, "bert", "2.0", personas.alpha_registry_user)
    again = Uploader(uploader.t, ALPHA, "models", "bert", "2.0")
    assert all(item["exists"] for item in again.exists(list(TREE.values())).json()["files"])
    assert again.upload_all(TREE) == []
    assert finalize(second).status == VersionStatus.UPLOAD_COMPLETE
    assert VersionedArtifact.objects.get(pk=version.artifact_id).latest_version_id == second.pk


def test_a_base_version_contributes_the_files_not_committed_again(personas, version, uploader):
    uploader.upload_all({"a.txt": b"a", "b.txt": b"b"})
    finalize(version)
    second = make_version(personas.acme, personas.alpha, "bert", "1.1", personas.alpha_registry_user)
    again = Uploader(uploader.t, ALPHA, "models", "bert", "1.1")
    again.upload_all({"b.txt": b"b2"})
    assert again.commit({}, base_version="1.0").status == 200
    assert dict(second.files.values_list("path", "sha256")) == {"a.txt": hexsha(b"a"), "b.txt": hexsha(b"b2")}


# --- finalisation -----------------------------------------------------------------------------------


def test_a_tampered_blob_fails_finalisation_with_the_reason(version, uploader):
    """Blobs verified at complete are trusted by finalisation for their content (existence and size
    are checked): a stored file of another length fails the version."""
    uploader.upload_all({"ok.bin": b"fine", "bad.bin": b"original"})
    assert Blob.objects.get(digest=f"sha256:{hexsha(b'original')}").verified_at is not None
    blob_path = Path(get_blob_store().root) / "blobs" / "sha256" / hexsha(b"original")[:2] / hexsha(b"original")
    blob_path.write_bytes(b"tampered!")  # another length
    failed = finalize(version)
    assert failed.status == VersionStatus.UPLOAD_FAILED
    assert "bad.bin" in failed.failure_reason and "9 bytes in storage, not 8" in failed.failure_reason
    assert VersionedArtifact.objects.get(pk=version.artifact_id).latest_version_id is None
    assert uploader.t.api("GET", f"/v2/{ALPHA}/models/bert/1.0/files").status == 409


def test_an_unverified_blob_is_rehashed_by_finalisation(version, uploader):
    """A blob nothing has verified (no `verified_at`) is re-hashed: same-length tampering fails the
    version with the sha256 reason; once a re-hash passes, the blob is marked verified."""
    uploader.upload_all({"a-ok.bin": b"fine", "bad.bin": b"original"})  # checked in path order
    Blob.objects.filter(digest__in=[f"sha256:{hexsha(b'original')}", f"sha256:{hexsha(b'fine')}"]).update(verified_at=None)
    blob_path = Path(get_blob_store().root) / "blobs" / "sha256" / hexsha(b"original")[:2] / hexsha(b"original")
    blob_path.write_bytes(b"tampered")  # same length
    failed = finalize(version)
    assert failed.status == VersionStatus.UPLOAD_FAILED
    assert "bad.bin" in failed.failure_reason and "sha256" in failed.failure_reason
    assert Blob.objects.get(digest=f"sha256:{hexsha(b'fine')}").verified_at is not None
    assert Blob.objects.get(digest=f"sha256:{hexsha(b'original')}").verified_at is None


def test_a_single_part_file_is_hashed_while_received_and_a_resend_clears_it(version, uploader):
    """One part from offset 0: its sha256 is kept at receive time and complete trusts it; a part
    cut short afterwards clears it, so complete re-hashes the file and refuses the mixed bytes."""
    data = b"x" * 5000
    started = uploader.start("one.bin", data, part_size=8192).json()
    upload = MultipartUpload.objects.get(pk=started["uploadID"])
    assert uploader.put_part(started["urls"][0], data).status == 200
    upload.refresh_from_db()
    assert upload.streamed_sha256 == hexsha(data)
    # A re-send that stops short: the earlier digest must not be trusted any more.
    with pytest.raises(InvalidInput):
        multipart.MultipartTransfer.receive_part(
            upload_id=upload.pk, number=1, body=io.BytesIO(b"y" * 100), length=None
        )
    upload.refresh_from_db()
    assert upload.streamed_sha256 == "" and upload.received_parts == [1]
    assert uploader.complete("one.bin", started["uploadID"], b64sha(data)).status == 409


def test_a_missing_blob_fails_finalisation(version, uploader):
    uploader.upload_all({"gone.bin": b"bytes"})
    get_blob_store().delete(f"sha256:{hexsha(b'bytes')}")
    failed = finalize(version)
    assert failed.status == VersionStatus.UPLOAD_FAILED and "gone.bin" in failed.failure_reason
    assert "missing" in failed.failure_reason


def test_a_failed_version_can_be_repaired_and_completed(version, uploader):
    uploader.upload_all({"gone.bin": b"bytes"})
    get_blob_store().delete(f"sha256:{hexsha(b'bytes')}")
    assert finalize(version).status == VersionStatus.UPLOAD_FAILED
    uploader.upload("gone.bin", b"bytes")  # the same bytes again restore the blob
    assert finalize(version).status == VersionStatus.UPLOAD_COMPLETE


def test_a_complete_version_takes_no_more_uploads(version, uploader):
    uploader.upload_all({"a": b"a"})
    finalize(version)
    assert uploader.start("b", b"b").status == 409
    assert uploader.commit({"a": b"a"}).status == 409


def test_downloads_wait_for_the_version_to_be_complete(version, uploader):
    uploader.upload_all({"a": b"a"})
    pending = uploader.t.api("GET", f"/v2/{ALPHA}/models/bert/1.0/files")
    assert pending.status == 409 and "UPLOAD_PENDING" in pending.json()["detail"]
    assert uploader.t.api("GET", f"/v2/{ALPHA}/models/bert/versions/1.0/zip").status == 409
    file = ArtifactFile.objects.get()
    url = capabilities.file_url_path(file, version.created_by)
    assert uploader.t.raw("GET", url).status == 409


def test_finalisation_points_latest_at_the_highest_semver_not_the_last_completed(personas, uploader):
    rows = {}
    for number in ("1.10", "1.9"):
        rows[number] = make_version(personas.acme, personas.alpha, "bert", number, personas.alpha_registry_user)
        Uploader(uploader.t, ALPHA, "models", "bert", number).upload_all({"w": number.encode()})
    finalize(rows["1.10"])
    assert finalize(rows["1.9"]).status == VersionStatus.UPLOAD_COMPLETE
    assert VersionedArtifact.objects.get(name="bert").latest_version_id == rows["1.10"].pk


def test_sha256_is_read_from_base64_or_hex():
    assert rules.sha256_hex("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=") == hexsha(b"")
    assert rules.sha256_hex(hexsha(b"").upper()) == hexsha(b"")
    for bad in ("", "abc", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuF=", None, 5):
        with pytest.raises(InvalidInput):
            rules.sha256_hex(bad)


# --- personas ---------------------------------------------------------------------------------------


@pytest.fixture
def complete(version, uploader):
    uploader.upload_all({"a.bin": b"abc"})
    finalize(version)
    return version


def test_registry_read_can_download_but_not_upload(personas, complete):
    reader = Uploader(DjangoTransport(personas.alpha_registry_read), ALPHA, "models", "bert", "1.0")
    listing = reader.t.api("GET", f"/v2/{ALPHA}/models/bert/1.0/files")
    assert listing.status == 200
    assert reader.t.raw("GET", listing.json()["urls"][0]).content == b"abc"
    assert reader.t.api("GET", f"/v2/{ALPHA}/models/bert/versions/1.0/zip").status == 200
    make_version(personas.acme, personas.alpha, "bert", "2.0", personas.alpha_registry_user)
    writer = Uploader(reader.t, ALPHA, "models", "bert", "2.0")
    assert writer.exists([b"abc"]).status == 403
    assert writer.start("x", b"x").status == 403
    assert writer.commit({"a.bin": b"abc"}).status == 403
    assert not MultipartUpload.objects.exists()


@pytest.mark.parametrize("persona", ["beta_user", "outsider", "org_registry_user", "alpha_user_read"])
def test_who_may_not_read_the_artifact_gets_404_everywhere(personas, complete, persona):
    other = Uploader(DjangoTransport(getattr(personas, persona)), ALPHA, "models", "bert", "1.0")
    assert other.t.api("GET", f"/v2/{ALPHA}/models/bert/1.0/files").status == 404
    assert other.t.api("GET", f"/v2/{ALPHA}/models/bert/1.0/files?path=a.bin").status == 404
    assert other.t.api("GET", f"/v2/{ALPHA}/models/bert/versions/1.0/zip").status == 404
    assert other.exists([b"abc"]).status == 404
    assert other.start("x", b"x").status == 404
    assert other.commit({"a.bin": b"abc"}).status == 404


def test_a_download_url_stops_working_when_its_user_loses_access(personas, complete):
    reader = DjangoTransport(personas.alpha_registry_read)
    url = reader.api("GET", f"/v2/{ALPHA}/models/bert/1.0/files").json()["urls"][0]
    personas.alpha_registry_read.is_active = False
    personas.alpha_registry_read.save(update_fields=["is_active"])
    assert reader.raw("GET", url).status == 403
    assert reader.raw("GET", url.replace("sig=", "sig=f")).status == 403


def test_resources_use_the_same_protocol(personas):
    make_version(personas.acme, None, "recipe", "1", personas.org_registry_user, kind="resources")
    up = Uploader(DjangoTransport(personas.org_registry_user), "org/acme", "resources", "recipe", "1")
    up.upload_all({"run.sh": b"#!/bin/sh\n"})
    version = ArtifactVersion.objects.get(artifact__name="recipe")
    assert finalize(version).status == VersionStatus.UPLOAD_COMPLETE
    listing = up.t.api("GET", "/v2/org/acme/resources/recipe/1/files")
    assert listing.status == 200 and listing.json()["filepath"] == ["run.sh"]
    assert up.t.api("GET", "/v2/org/acme/models/recipe/1/files").status == 404


def test_gc_keeps_the_blobs_of_files_and_completed_uploads_and_drops_stale_uploads(personas, version, uploader):
    from datetime import timedelta

    from django.utils import timezone

    from artifacts.blobs import gc

    uploader.upload_all({"kept.bin": b"committed"})
    uploader.upload("done.bin", b"completed, not committed")
    stale = uploader.start("stale.bin", b"never finished").json()["uploadID"]
    Blob.objects.update(last_linked_at=timezone.now() - timedelta(days=2))
    MultipartUpload.objects.filter(pk=stale).update(updated_at=timezone.now() - timedelta(days=2))
    report = gc.blob_collect_garbage(grace=timedelta(minutes=30), session_ttl=timedelta(hours=1))
    assert report.blobs_deleted == 0 and report.sessions_deleted == 1
    assert not MultipartUpload.objects.filter(pk=stale).exists() and leftover_uploads() == []
    assert get_blob_store().exists(f"sha256:{hexsha(b'committed')}")
    assert get_blob_store().exists(f"sha256:{hexsha(b'completed, not committed')}")


def test_gc_removes_upload_files_whose_session_is_gone(personas, version, uploader):
    import os
    import time
    from datetime import timedelta

    from artifacts.blobs import gc

    store = get_blob_store()
    orphan = "0b5e7a4c-0000-4000-8000-000000000001"
    store.reserve_upload(orphan, 10)  # as left by a version deleted mid-upload
    store.reserve_upload("bytes-leftover", 3)
    fresh_orphan = "0b5e7a4c-0000-4000-8000-000000000002"
    store.reserve_upload(fresh_orphan, 10)
    live = uploader.start("live.bin", b"in progress").json()["uploadID"]
    old = time.time() - 3 * 3600
    for name in (orphan, "bytes-leftover", live):
        os.utime(uploads_dir() / name, (old, old))
    report = gc.blob_collect_garbage(session_ttl=timedelta(hours=1))
    assert report.sessions_deleted == 2
    assert leftover_uploads() == sorted([fresh_orphan, live])
