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
