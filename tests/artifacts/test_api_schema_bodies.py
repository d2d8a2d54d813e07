"""The OpenAPI schema (/api/schema/) states the bodies the artifact endpoints really answer: a real
response of each kind (container repository, model, resource, Helm chart, GPU host) validates
against the documented response schema, with no undocumented key (additionalProperties false)."""
import pytest
from jsonschema import Draft202012Validator
from rest_framework.test import APIClient

from artifacts.gpu import services as gpu_services
from artifacts.versioned import services as versioned_services
from helmrepo import services as helm_services
from tests.helmrepo import charts

pytestmark = pytest.mark.django_db
ALPHA = "/v2/org/acme/team/alpha"


def _strict(node):
    """OpenAPI 3.0 → JSON Schema: `nullable` becomes a null alternative, and objects with declared
    properties allow no other key."""
    if isinstance(node, list):
        return [_strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _strict(value) for key, value in node.items()}
    if node.pop("nullable", False):
        node = {**node, "type": [node["type"], "null"]} if "type" in node else {"anyOf": [node, {"type": "null"}]}
    if "properties" in node and "additionalProperties" not in node:
        node["additionalProperties"] = False
    return node


@pytest.fixture
def owner_api(personas):
    client = APIClient()
    client.force_authenticate(personas.owner)
    return client


@pytest.fixture
def documented(owner_api):
    """`documented(path, method, status)`: a validator of that operation's documented response."""
    document = owner_api.get("/api/schema/?format=json").json()

    def validator(path: str, method: str, status: int = 200) -> Draft202012Validator:
        body = document["paths"][path][method]["responses"][str(status)]["content"]["application/json"]["schema"]
        return Draft202012Validator(_strict({**body, "components": document["components"]}))

    return validator


def assert_documented(validator: Draft202012Validator, response) -> None:
    errors = [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(response.json())]
    assert not errors, errors


def test_a_container_repository_answers_what_the_schema_states(personas, registry, owner_api, documented):
    registry(personas.alpha_registry_admin).push_image("acme/alpha/app", "1.0")
    detail = owner_api.get(f"{ALPHA}/repos/app")
    assert detail.status_code == 200 and detail.json()["tagDetails"]
    assert_documented(documented("/v2/org/{org}/team/{team}/repos/{repo}", "get"), detail)
    listing = owner_api.get(f"{ALPHA}/repos")
    assert_documented(documented("/v2/org/{org}/team/{team}/repos", "get"), listing)


@pytest.mark.parametrize("kind", ["models", "resources"])
def test_a_model_or_resource_answers_what_the_schema_states(personas, owner_api, documented, kind):
    artifact = versioned_services.artifact_create(
        actor=personas.owner, space=personas.alpha_space, kind=kind, name="bert", labels=["NLP"],
        logo="https://example.com/logo.png",
    )
    versioned_services.version_create(actor=personas.owner, artifact=artifact, version="1.0", custom_metrics=[
        {"name": "Accuracy", "attributes": [{"key": "top1", "value": "0.9"}]},
    ], link="https://example.com", link_type="Other")
    detail = owner_api.get(f"{ALPHA}/{kind}/bert")
    assert detail.status_code == 200
    assert_documented(documented(f"/v2/org/{{org}}/team/{{team}}/{kind}/{{name}}", "get"), detail)
    versions = owner_api.get(f"{ALPHA}/{kind}/bert/versions")
    assert versions.status_code == 200
    assert_documented(documented(f"/v2/org/{{org}}/team/{{team}}/{kind}/{{name}}/versions", "get"), versions)
    version = owner_api.get(f"{ALPHA}/{kind}/bert/versions/1.0")
    assert_documented(documented(f"/v2/org/{{org}}/team/{{team}}/{kind}/{{name}}/versions/{{version}}", "get"), version)


def test_a_helm_chart_answers_what_the_schema_states(personas, owner_api, documented):
    helm_services.chart_create(actor=personas.owner, space=personas.alpha_space, name="demo", short_description="Demo")
    helm_services.chart_version_push(actor=personas.owner, space=personas.alpha_space, chunks=[charts.package("demo", "1.0.0")])
    detail = owner_api.get(f"{ALPHA}/helm-charts/demo")
    assert detail.status_code == 200 and detail.json()["artifact"]["latestVersionIdStr"] == "1.0.0"
    assert_documented(documented("/v2/org/{org}/team/{team}/helm-charts/{name}", "get"), detail)
    versions = owner_api.get(f"{ALPHA}/helm-charts/demo/versions")
    assert_documented(documented("/v2/org/{org}/team/{team}/helm-charts/{name}/versions", "get"), versions)
    files = owner_api.get(f"{ALPHA}/helm-charts/demo/versions/1.0.0/files")
    assert files.json()["artifactFiles"]
    assert_documented(documented("/v2/org/{org}/team/{team}/helm-charts/{name}/versions/{version}/files", "get"), files)


def test_a_gpu_host_answers_what_the_schema_states(personas, owner_api, documented):
    gpu_services.host_create(
        actor=personas.owner, org=personas.acme, name="dgx-1", architecture="amd64", labels=["rack 2"],
        gpus=[{"name": "NVIDIA H100 80GB HBM3", "computeCapability": "9.0"}],
    )
    detail = owner_api.get("/v2/org/acme/gpu-hosts/dgx-1")
    assert detail.status_code == 200
    assert_documented(documented("/v2/org/{org}/gpu-hosts/{name}", "get"), detail)
    assert_documented(documented("/v2/org/{org}/gpu-hosts", "get"), owner_api.get("/v2/org/acme/gpu-hosts"))
