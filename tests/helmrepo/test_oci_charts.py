"""`helm push oci://…` stores a chart as an OCI artifact in the container registry: a manifest
whose config is application/vnd.cncf.helm.config.v1+json and whose one layer is the .tgz."""
import hashlib
import json

import pytest

from tests.support.oci import OCI_MANIFEST, Registry, sha256
from tests.helmrepo import charts

pytestmark = pytest.mark.django_db
HELM_CONFIG = "application/vnd.cncf.helm.config.v1+json"
HELM_CONTENT = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"


def test_the_container_registry_accepts_and_serves_a_helm_chart_artifact(client, personas):
    registry = Registry(client, personas.alpha_registry_user)
    package = charts.package("demo", "0.1.0")
    config = json.dumps({"name": "demo", "version": "0.1.0", "apiVersion": "v2", "appVersion": "1.16.0"}).encode()
    config_digest = registry.push_blob("acme/alpha/demo", config)
    layer_digest = registry.push_blob("acme/alpha/demo", package)
    document = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": HELM_CONFIG, "digest": config_digest, "size": len(config)},
        "layers": [{"mediaType": HELM_CONTENT, "digest": layer_digest, "size": len(package)}],
        "annotations": {"org.opencontainers.image.title": "demo", "org.opencontainers.image.version": "0.1.0"},
    }
    response, body = registry.push_manifest("acme/alpha/demo", "0.1.0", document, OCI_MANIFEST)
    assert response.status_code == 201, response.content

    pulled = registry.request("GET", "/v2/acme/alpha/demo/manifests/0.1.0", HTTP_ACCEPT=OCI_MANIFEST)
    assert pulled.status_code == 200 and pulled.content == body
    assert json.loads(pulled.content)["config"]["mediaType"] == HELM_CONFIG
    layer = registry.request("GET", f"/v2/acme/alpha/demo/blobs/{layer_digest}")
    assert layer.status_code == 200
    content = b"".join(layer.streaming_content) if layer.streaming else layer.content
    assert hashlib.sha256(content).hexdigest() == hashlib.sha256(package).hexdigest() and sha256(content) == layer_digest
    assert Registry(client, personas.beta_user).request("GET", "/v2/acme/alpha/demo/manifests/0.1.0").status_code in (401, 403, 404)
