"""Range on registry blob downloads (RFC 9110, registry_portal/http_ranges.py)."""
import pytest

from tests.support.ranges import assert_ranges_per_rfc9110

pytestmark = pytest.mark.django_db
NAME = "acme/alpha/app"


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_blob_downloads_answer_suffix_open_multi_and_unknown_unit_ranges_per_rfc9110(personas, registry):
    reg = registry(personas.alpha_registry_user)
    data = bytes(range(256)) * 8
    digest = reg.push_blob(NAME, data)

    def fetch(method: str, headers: dict):
        extra = {f"HTTP_{key.upper().replace('-', '_')}": value for key, value in headers.items()}
        response = reg.request(method, f"/v2/{NAME}/blobs/{digest}", **extra)
        return response.status_code, dict(response.items()), _body(response)

    assert_ranges_per_rfc9110(fetch, data, error_body_key="errors")


def test_a_suffix_range_is_not_refused_as_an_invalid_upload(personas, registry):
    reg = registry(personas.alpha_registry_user)
    data = b"0123456789" * 100
    digest = reg.push_blob(NAME, data)

    response = reg.request("GET", f"/v2/{NAME}/blobs/{digest}", HTTP_RANGE="bytes=-500")

    assert response.status_code == 206 and _body(response) == data[-500:]
    assert response["Docker-Content-Digest"] == digest and response["ETag"] == f'"{digest}"'


def test_a_blob_whose_file_is_missing_from_storage_is_unknown_not_a_server_error(personas, registry):
    """Storage lost the file (a disk replaced, a manual deletion) while the row stayed: a pull is told
    BLOB_UNKNOWN (404, the spec's JSON), so the client re-pushes instead of retrying a 500."""
    from artifacts.blobs.store import get_blob_store

    reg = registry(personas.alpha_registry_user)
    digest = reg.push_blob(NAME, b"bytes the disk lost")
    get_blob_store().delete(digest)

    for extra in ({}, {"HTTP_RANGE": "bytes=0-4"}):
        response = reg.request("GET", f"/v2/{NAME}/blobs/{digest}", **extra)
        assert response.status_code == 404, extra
        assert [error["code"] for error in response.json()["errors"]] == ["BLOB_UNKNOWN"]
