"""Hostile input on the registry face answers 4xx in the OCI error envelope, never a 500."""
import json
from urllib.parse import urlencode

import pytest

from tests.support.oci import OCI_MANIFEST, error_codes

pytestmark = pytest.mark.django_db
NAME = "acme/alpha/app"
HUGE = "99999999999999999999999"


def test_it_refuses_a_manifest_nested_100000_deep_as_manifest_invalid(personas, registry):
    reg = registry(personas.alpha_registry_user)
    body = b'{"schemaVersion":2,"annotations":' + b"[" * 100_000 + b"]" * 100_000 + b"}"

    response = reg.request("PUT", f"/v2/{NAME}/manifests/v1", body, content_type=OCI_MANIFEST)

    assert response.status_code == 400
    assert error_codes(response) == ["MANIFEST_INVALID"]
    assert "deeper than" in response.json()["errors"][0]["detail"]


def test_a_manifest_with_ordinary_nesting_is_still_accepted(personas, registry):
    reg = registry(personas.alpha_registry_user)
    digest, _ = reg.push_image(NAME, "1.0")
    assert reg.request("GET", f"/v2/{NAME}/manifests/{digest}").status_code == 200


def test_a_page_size_beyond_any_integer_column_is_clamped_for_tags_and_catalog(personas, registry):
    reg = registry(personas.alpha_registry_user)
    reg.push_image(NAME, "1.0")

    tags = reg.request("GET", f"/v2/{NAME}/tags/list?n={HUGE}")
    catalog = reg.request("GET", f"/v2/_catalog?n={HUGE}")

    assert tags.status_code == 200 and tags.json()["tags"] == ["1.0"]
    assert catalog.status_code == 200 and NAME in catalog.json()["repositories"]


@pytest.mark.parametrize("value", ["²", "-1", "1e3", " 5", "0x10"])
def test_a_page_size_that_is_not_a_plain_number_is_a_400(personas, registry, value):
    reg = registry(personas.alpha_registry_user)
    reg.push_image(NAME, "1.0")

    for path in (f"/v2/{NAME}/tags/list", "/v2/_catalog"):
        response = reg.request("GET", f"{path}?{urlencode({'n': value})}")
        assert response.status_code == 400, (path, response.content)
        assert json.loads(response.content)["errors"][0]["code"] == "UNSUPPORTED"
