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
    """The blob store on the test S3 server's bucket (shared by the whole run: use unique bytes);
    what the test added to the bucket (objects, multipart uploads) is removed after it."""
    settings.STORAGES = {**settings.STORAGES, "blobs": {
        "BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": s3_server.storage_options(),
    }}
    client, bucket = s3_server.client(), s3_server.bucket
    objects_before, multipart_before = _bucket_contents(client, bucket)
    yield s3_server
    objects, multipart = _bucket_contents(client, bucket)
    for key in objects - objects_before:
        client.delete_object(Bucket=bucket, Key=key)
    for key, upload_id in multipart - multipart_before:
        client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)


def _bucket_contents(client, bucket: str) -> tuple[set[str], set[tuple[str, str]]]:
    objects = {item["Key"] for item in client.list_objects_v2(Bucket=bucket).get("Contents", [])}
    multipart = {(item["Key"], item["UploadId"]) for item in client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])}
    return objects, multipart
