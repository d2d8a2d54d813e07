"""The `oras` Python SDK (unpatched) pushes and pulls an artifact with a custom media type and a referrer."""
import oras.client as oras_client
import oras.oci
import pytest

from accounts import services as account_services

pytestmark = [pytest.mark.clients, pytest.mark.django_db(transaction=True)]


def test_oras_pushes_and_pulls_an_artifact_with_a_referrer(personas, live_server_https, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    host = live_server_https.url.split("://", 1)[1]
    key = account_services.api_key_generate(user=personas.alpha_registry_user)
    client = oras_client.OrasClient(hostname=host, tls_verify=live_server_https.ca_bundle)
    client.login(username="$oauthtoken", password=key, hostname=host)
    (tmp_path / "model.bin").write_bytes(b"weights" * 1000)
    (tmp_path / "sbom.json").write_text('{"packages": []}')

    target = f"{host}/acme/alpha/artifact:v1"
    response = client.push(target=target, files=["model.bin:application/vnd.example.model.v1"])
    assert response.status_code == 201
    manifest = client.get_manifest(target)
    assert manifest["layers"][0]["mediaType"] == "application/vnd.example.model.v1"

    out = tmp_path / "out"
    paths = client.pull(target=target, outdir=str(out))
    assert [p.rsplit("/", 1)[-1] for p in paths] == ["model.bin"]
    assert (out / "model.bin").read_bytes() == b"weights" * 1000

    subject = oras.oci.Subject.from_manifest(manifest)
    referrer = client.push(
        target=f"{host}/acme/alpha/artifact:sbom", files=["sbom.json:application/spdx+json"], subject=subject,
    )
    assert referrer.status_code == 201
    http = live_server_https.session()
    listing = http.get(
        f"{live_server_https.url}/v2/acme/alpha/artifact/referrers/{subject.digest}",
        auth=("$oauthtoken", key), verify=live_server_https.ca_bundle,
    )
    assert listing.status_code == 200
    assert [m["digest"] for m in listing.json()["manifests"]] == [referrer.headers["Docker-Content-Digest"]]
