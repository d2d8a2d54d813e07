"""Range on model/resource file downloads at their capability URLs (RFC 9110, registry_portal/http_ranges.py)."""
import pytest

from tests.artifacts.versioned.test_transfers import finalize, make_version
from tests.support.ngc_transfer import DjangoTransport, Uploader
from tests.support.ranges import assert_ranges_per_rfc9110

pytestmark = pytest.mark.django_db
ALPHA = "org/acme/team/alpha"


def test_file_downloads_answer_suffix_open_multi_and_unknown_unit_ranges_per_rfc9110(personas):
    version = make_version(personas.acme, personas.alpha, "bert", "1.0", personas.alpha_registry_user)
    uploader = Uploader(DjangoTransport(personas.alpha_registry_user), ALPHA, "models", "bert", "1.0")
    data = bytes(range(256)) * 8
    uploader.upload_all({"weights.bin": data}, part_size=1024)
    finalize(version)
    url = uploader.t.api("GET", f"/v2/{ALPHA}/models/bert/1.0/files").json()["urls"][0]

    def fetch(method: str, headers: dict):
        reply = uploader.t.raw(method, url, headers=headers)
        return reply.status, reply.headers, reply.content

    assert_ranges_per_rfc9110(fetch, data, error_body_key="requestStatus")


def test_a_file_whose_bytes_are_missing_from_storage_is_not_found_not_a_server_error(personas):
    from artifacts.blobs.store import get_blob_store

    version = make_version(personas.acme, personas.alpha, "bert", "1.0", personas.alpha_registry_user)
    uploader = Uploader(DjangoTransport(personas.alpha_registry_user), ALPHA, "models", "bert", "1.0")
    data = b"weights the disk lost" * 50
    uploader.upload_all({"weights.bin": data}, part_size=1024)
    finalize(version)
    url = uploader.t.api("GET", f"/v2/{ALPHA}/models/bert/1.0/files").json()["urls"][0]
    get_blob_store().delete(version.files.get().blob.digest)

    for method in ("GET", "HEAD"):
        assert uploader.t.raw(method, url, headers={}).status == 404, method
