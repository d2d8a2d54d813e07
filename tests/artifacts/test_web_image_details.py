"""The container Tags page's image details (issue 17, like NGC's): per tag, each image's layers with
sizes, its config (entrypoint, command, environment with NVIDIA_REQUIRE_CUDA, created time), and the
OCI referrers (signatures, SBOMs) of the tag's digest. Images are pushed through the registry protocol."""
import json

import pytest
from django.urls import reverse

from tests.support.oci import OCI_MANIFEST, Registry, image_manifest, sha256
from tests.artifacts.test_web_containers import push_multiarch
from tests.support.web import client_for, onboard

CONFIG = {
    "architecture": "amd64", "os": "linux", "created": "2026-11-30T08:15:00Z",
    "config": {"Entrypoint": ["/opt/nvidia/entrypoint.sh"], "Cmd": ["python", "serve.py"], "WorkingDir": "/workspace",
               "Env": ["PATH=/usr/local/bin:/usr/bin", "NVIDIA_REQUIRE_CUDA=cuda>=12.2 brand=tesla,driver>=535"]},
}
SBOM = "application/spdx+json"


@pytest.fixture
def tagged(personas, client):
    """acme/alpha/app:1.0 with two layers and a CUDA config, an SBOM referring to it, and tag multi."""
    onboard(*personas.users.values())
    registry = Registry(client, personas.owner)
    config = json.dumps(CONFIG).encode()
    layers = [b"a" * 3000, b"b" * 1500]
    document = image_manifest(registry.push_blob("acme/alpha/app", config), len(config),
                              [(registry.push_blob("acme/alpha/app", layer), len(layer)) for layer in layers])
    response, body = registry.push_manifest("acme/alpha/app", "1.0", document, OCI_MANIFEST)
    assert response.status_code == 201, response.content
    empty = registry.push_blob("acme/alpha/app", b"{}")
    sbom_layer = registry.push_blob("acme/alpha/app", b'{"spdxVersion": "SPDX-2.3"}')
    sbom = image_manifest(empty, 2, [(sbom_layer, 27)], artifactType=SBOM,
                          subject={"mediaType": OCI_MANIFEST, "digest": sha256(body), "size": len(body)})
    sbom["config"]["mediaType"] = "application/vnd.oci.empty.v1+json"
    sbom_body = json.dumps(sbom).encode()
    response = registry.request("PUT", f"/v2/acme/alpha/app/manifests/{sha256(sbom_body)}", sbom_body, content_type=OCI_MANIFEST)
    assert response.status_code == 201, response.content
    push_multiarch(registry, "acme/alpha/app", "multi")
    return {"digest": sha256(body), "sbom": sha256(sbom_body), "layers": [sha256(layer) for layer in layers]}


def test_the_tags_page_shows_each_images_layers_config_cuda_requirement_and_referrers(personas, tagged):
    response = client_for(personas.alpha_registry_read, personas.alpha_space).get(reverse("artifacts:container-tags", args=["acme/alpha/app"]))
    assert response.status_code == 200
    tag = next(t for t in response.context["tags"] if t.name == "1.0")
    [image] = tag.images
    assert [(layer.digest, layer.size) for layer in image.layers] == [(tagged["layers"][0], 3000), (tagged["layers"][1], 1500)]
    assert image.cuda_requirement == "cuda>=12.2 brand=tesla,driver>=535"
    assert [r.digest for r in tag.referrers] == [tagged["sbom"]]
    html = response.content.decode()
    for text in ("/opt/nvidia/entrypoint.sh", "python serve.py", "/workspace", "2026-11-30T08:15:00Z",
                 "NVIDIA_REQUIRE_CUDA=cuda&gt;=12.2 brand=tesla,driver&gt;=535", "2.9\xa0KB", "1.5\xa0KB", "2 layers", SBOM):
        assert text in html, text


def test_an_index_shows_the_layers_of_each_platform_and_an_image_without_referrers_says_so(personas, tagged):
    response = client_for(personas.owner, personas.alpha_space).get(reverse("artifacts:container-tags", args=["acme/alpha/app"]))
    multi = next(t for t in response.context["tags"] if t.name == "multi")
    assert [image.platform for image in multi.images] == ["linux/amd64", "linux/arm64/v8"]
    assert all(len(image.layers) == 1 for image in multi.images)
    assert multi.referrers == []
    assert "No artifact refers to this digest." in response.content.decode()
