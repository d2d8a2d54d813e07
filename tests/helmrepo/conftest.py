"""Helm repository tests: a private blob store and a fast hasher (the Helm client is tests.support.helm)."""
import pytest


@pytest.fixture(autouse=True)
def helm_settings(settings, tmp_path, fast_password_hashing):
    settings.BLOB_STORE_ROOT = tmp_path / "storage"
    settings.SITE_URL = "https://registry.test"
    settings.REGISTRY_SERVICE_NAME = "registry.test"
    settings.TOKEN_SERVICES = {**settings.TOKEN_SERVICES, "registry.test": "artifacts.oci.auth.issue_registry_token"}
    settings.HELM_MAX_CHART_BYTES = 1024 * 1024
    return settings
