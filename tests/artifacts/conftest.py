"""Registry protocol tests: a private blob store, a fast hasher, and `registry(user)`, a client over Django's test client."""
import pytest

from tests.support.oci import Registry


@pytest.fixture(autouse=True)
def blob_root(settings, tmp_path, fast_password_hashing):
    settings.BLOB_STORE_ROOT = tmp_path / "storage"
    settings.REGISTRY_SERVICE_NAME = "registry.test"
    settings.TOKEN_SERVICES = {**settings.TOKEN_SERVICES, "registry.test": "artifacts.oci.auth.issue_registry_token"}
    settings.SITE_URL = "https://registry.test"
    return settings.BLOB_STORE_ROOT


@pytest.fixture
def registry(client):
    def make(user=None, **kwargs):
        return Registry(client, user, **kwargs)

    return make


@pytest.fixture
def s3_blobs(s3_server, settings):
    """The blob store on the test S3 server's bucket (shared by the whole run: use unique bytes)."""
    settings.STORAGES = {**settings.STORAGES, "blobs": {
        "BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": s3_server.storage_options(),
    }}
    return s3_server
