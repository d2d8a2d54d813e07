"""Range on Helm package downloads (RFC 9110, registry_portal/http_ranges.py)."""
import hashlib

import pytest

from tests.helmrepo import charts
from tests.support.helm import Helm
from tests.support.ranges import assert_ranges_per_rfc9110

pytestmark = pytest.mark.django_db(transaction=True)


def test_package_downloads_answer_suffix_open_multi_and_unknown_unit_ranges_per_rfc9110(client, personas):
    helm = Helm(client, personas.alpha_registry_user)
    noise = b"".join(hashlib.sha256(bytes([i])).digest() for i in range(64))  # incompressible: a package over 1 KB
    data = charts.package("demo", "1.0.0", extra_members=[charts.file_member("demo/files/noise.bin", noise)])
    assert helm.push("acme/alpha", data).status_code == 201

    def fetch(method: str, headers: dict):
        extra = {f"HTTP_{key.upper().replace('-', '_')}": value for key, value in headers.items()}
        response = getattr(client, method.lower())("/helm/acme/alpha/charts/demo-1.0.0.tgz", **helm.headers, **extra)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        return response.status_code, dict(response.items()), body

    assert_ranges_per_rfc9110(fetch, data, error_body_key="error")


def test_a_package_whose_file_is_missing_from_storage_is_not_found_not_a_server_error(client, personas):
    from artifacts.blobs.store import get_blob_store
    from helmrepo.models import ChartVersion

    helm = Helm(client, personas.alpha_registry_user)
    assert helm.push("acme/alpha", charts.package("demo", "1.0.0")).status_code == 201
    get_blob_store().delete(ChartVersion.objects.get().package.digest)

    for method in ("get", "head"):
        response = getattr(client, method)("/helm/acme/alpha/charts/demo-1.0.0.tgz", **helm.headers)
        assert response.status_code == 404, method
