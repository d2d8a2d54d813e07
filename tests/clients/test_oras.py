"""The `oras` Python SDK (unpatched) pushes and pulls an artifact with a custom media type and a
referrer, with the server's blobs in local files and in an S3 bucket."""
import os

import oras.client as oras_client
import oras.oci
import pytest

from accounts import services as account_services
from tests.support.blob_home import log_mark, requests_since, tagged_blobs

pytestmark = [pytest.mark.clients, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("blob_storage", ["local", "s3"])
def test_oras_pushes_and_pulls_an_artifact_with_a_referrer(personas, registry_server, blob_home, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    host = registry_server.url.split("://", 1)[1]
    key = account_services.api_key_generate(user=personas.alpha_registry_user)
    client = oras_client.OrasClient(hostname=host, tls_verify=registry_server.ca_bundle)
    client.login(username="$oauthtoken", password=key, hostname=host)
    weights = b"weights" * 1000 + os.urandom(16)  # the test's own bytes: a bucket outlives a test
    (tmp_path / "model.bin").write_bytes(weights)
    (tmp_path / "sbom.json").write_text('{"packages": []}')

    target = f"{host}/acme/alpha/artifact:v1"
    response = client.push(target=target, files=["model.bin:application/vnd.example.model.v1"])
    assert response.status_code == 201
    manifest = client.get_manifest(target)
    assert manifest["layers"][0]["mediaType"] == "application/vnd.example.model.v1"
    blob_home.assert_holds(tagged_blobs("acme/alpha/artifact", "v1"))

    out = tmp_path / "out"
    mark = log_mark(registry_server.log_path)
    paths = client.pull(target=target, outdir=str(out))
    blob_home.assert_downloads_served(requests_since(registry_server.log_path, mark), r"/blobs/sha256:")
    assert [p.rsplit("/", 1)[-1] for p in paths] == ["model.bin"]
    assert (out / "model.bin").read_bytes() == weights

    subject = oras.oci.Subject.from_manifest(manifest)
    referrer = client.push(
        target=f"{host}/acme/alpha/artifact:sbom", files=["sbom.json:application/spdx+json"], subject=subject,
    )
    assert referrer.status_code == 201
    http = registry_server.session()
    listing = http.get(
        f"{registry_server.url}/v2/acme/alpha/artifact/referrers/{subject.digest}",
        auth=("$oauthtoken", key), verify=registry_server.ca_bundle,
    )
    assert listing.status_code == 200
    assert [m["digest"] for m in listing.json()["manifests"]] == [referrer.headers["Docker-Content-Digest"]]
