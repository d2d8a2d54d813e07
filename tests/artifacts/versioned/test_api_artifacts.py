"""Models and resources over the NGC API: /v2/{ot}/models|resources…, and search types MODEL/RECIPE."""
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from artifacts.versioned import services
from artifacts.versioned.models import ArtifactKind, ArtifactVersion, VersionedArtifact, VersionStatus
from tests.support.guide_metrics import RHCP, ZEPPELIN

DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
ALPHA_MODELS = "/v2/org/acme/team/alpha/models"


def guide_example_body(name="final_review_model") -> dict:
    """`ngc registry model create` of guide 4.1, as the CLI sends it (upper-case choices, nulls)."""
    return {
        "name": name,
        "application": "OBJECT_DETECTION",
        "framework": "TensorFlow",
        "modelFormat": "cpkt",
        "precision": "FP16",
        "shortDescription": "A model for object detection using TensorFlow",
        "description": "# Final Review Model\n\nHow to use it.",
        "displayName": "Final Review Model",
        "labelsV2": ["fast", "sparkly"],
        "logo": None,
        "ownerName": "MyTeam",
        "publicDatasetUsed": {"name": "200_10x200_images", "link": "www.example.com", "license": "CC-BY-4.0"},
        "builtBy": "My Name",
        "publisher": "NVIDIA MyTeam",
        "bias": None,
        "explainability": None,
    }


def make_model(personas, name="final_review_model", space=None, actor=None, **fields):
    return services.artifact_create(
        actor=actor or personas.alpha_registry_user, space=space or personas.alpha_space,
        kind=ArtifactKind.MODEL, name=name, **fields,
    )


def complete(version: ArtifactVersion, size: int = 0) -> None:
    """Stand-in for the transfer layer finishing an upload."""
    ArtifactVersion.objects.filter(pk=version.pk).update(status=VersionStatus.UPLOAD_COMPLETE, total_size_bytes=size)
    artifact = version.artifact
    artifact.latest_version = ArtifactVersion.objects.get(pk=version.pk)
    artifact.save(update_fields=["latest_version"])


# --- create, info, update -------------------------------------------------------------------


def test_creating_with_every_field_of_the_guides_example_answers_the_info_shape(personas, api):
    client = api(personas.alpha_registry_user)
    created = client.post(ALPHA_MODELS, guide_example_body(), format="json")
    assert created.status_code == 200, created.content
    assert created.json()["model"]["name"] == "final_review_model"

    response = client.get(f"{ALPHA_MODELS}/final_review_model?resolve-labels=false")
    assert response.status_code == 200
    model = response.json()["model"]
    assert model["orgName"] == "acme" and model["teamName"] == "alpha"
    assert model["application"] == "Object Detection"
    assert model["framework"] == "TensorFlow"
    assert model["modelFormat"] == "cpkt"
    assert model["precision"] == "FP16"
    assert model["shortDescription"] == "A model for object detection using TensorFlow"
    assert model["description"].startswith("# Final Review Model")
    assert model["displayName"] == "Final Review Model"
    assert model["labels"] == ["fast", "sparkly"]
    assert model["ownerName"] == "MyTeam"
    assert model["builtBy"] == "My Name" and model["publisher"] == "NVIDIA MyTeam"
    assert model["publicDatasetUsed"] == {"name": "200_10x200_images", "link": "www.example.com", "license": "CC-BY-4.0"}
    assert DATE.match(model["createdDate"]) and DATE.match(model["updatedDate"])
    assert model["latestVersionIdStr"] is None and model["latestVersionSizeInBytes"] == 0
    assert "id" not in model and "latestVersionId" not in model


def test_creating_an_existing_name_is_a_conflict(personas, api):
    client = api(personas.alpha_registry_user)
    assert client.post(ALPHA_MODELS, {"name": "m1"}, format="json").status_code == 200
    assert client.post(ALPHA_MODELS, {"name": "m1"}, format="json").status_code == 409
    # The same name in the org space or as a resource is another artifact.
    assert api(personas.org_registry_user).post("/v2/org/acme/models", {"name": "m1"}, format="json").status_code == 200
    assert client.post("/v2/org/acme/team/alpha/resources", {"name": "m1"}, format="json").status_code == 200


def test_an_unknown_application_is_refused_with_the_valid_list(personas, api):
    response = api(personas.alpha_registry_user).post(ALPHA_MODELS, {"name": "m1", "application": "TELEPATHY"}, format="json")
    assert response.status_code == 400
    assert "Object Detection" in response.json()["requestStatus"]["statusDescription"]
    assert not VersionedArtifact.objects.exists()


def test_an_invalid_name_is_refused(personas, api):
    response = api(personas.alpha_registry_user).post(ALPHA_MODELS, {"name": "Bad Name!"}, format="json")
    assert response.status_code == 400


def test_updating_changes_only_the_fields_given(personas, api):
    make_model(personas, **{"short_description": "old", "display_name": "Keep me"})
    response = api(personas.alpha_registry_user).patch(
        f"{ALPHA_MODELS}/final_review_model",
        {"shortDescription": "new", "labelsV2": ["a"], "precision": "int8", "publicDatasetUsed": {}, "logo": None},
        format="json",
    )
    assert response.status_code == 200, response.content
    model = response.json()["model"]
    assert model["shortDescription"] == "new" and model["displayName"] == "Keep me"
    assert model["labels"] == ["a"] and model["precision"] == "INT8"


def test_registry_read_may_read_but_not_create_or_update(personas, api):
    make_model(personas)
    reader = api(personas.alpha_registry_read)
    assert reader.get(f"{ALPHA_MODELS}/final_review_model").status_code == 200
    assert reader.post(ALPHA_MODELS, {"name": "m2"}, format="json").status_code == 403
    assert reader.patch(f"{ALPHA_MODELS}/final_review_model", {"shortDescription": "x"}, format="json").status_code == 403


def test_another_team_and_another_org_do_not_see_a_team_model(personas, api):
    make_model(personas)
    assert api(personas.beta_user).get(f"{ALPHA_MODELS}/final_review_model").status_code == 404
    assert api(personas.outsider).get(f"{ALPHA_MODELS}/final_review_model").status_code == 404


def test_resources_answer_recipe_keys_and_keep_their_documentation_tabs(personas, api):
    client = api(personas.alpha_registry_user)
    body = {
        "name": "cmr_gnmt", "application": "NLP", "trainingFramework": "PyTorch", "precision": "FPBOTH",
        "advanced": "# Advanced", "performance": "# Perf", "quickStartGuide": "# Quick", "setup": "# Setup",
        "releaseNotes": "# Notes",
    }
    assert client.post("/v2/org/acme/team/alpha/resources", body, format="json").status_code == 200
    recipe = client.get("/v2/org/acme/team/alpha/resources/cmr_gnmt").json()["recipe"]
    assert recipe["application"] == "Natural Language Processing"
    assert recipe["trainingFramework"] == "PyTorch" and recipe["precision"] == "FPBOTH"
    assert (recipe["advanced"], recipe["performance"], recipe["quickStartGuide"], recipe["setup"], recipe["releaseNotes"]) == (
        "# Advanced", "# Perf", "# Quick", "# Setup", "# Notes",
    )


# --- versions -------------------------------------------------------------------------------


def guide_version_body(version="1", metrics=(ZEPPELIN, RHCP)) -> dict:
    """`ngc registry model upload-version` of guide 4.3, with its metrics tables."""
    return {
        "versionId": version,
        "accuracyReached": 96.5,
        "batchSize": 2000,
        "gpuModel": "V100",
        "memoryFootprint": "4GB",
        "numberOfEpochs": 100,
        "description": "A new and exciting version: 1",
        "otherContents": [{"key": "Other", "value": "www.example.com/model/v1"}],
        "ownerName": "My Name",
        "customMetrics": list(metrics),
    }


def test_creating_a_version_with_every_field_of_the_guide_keeps_the_metrics_tables_in_order(personas, api):
    make_model(personas)
    client = api(personas.alpha_registry_user)
    created = client.post(f"{ALPHA_MODELS}/final_review_model/versions", guide_version_body(), format="json")
    assert created.status_code == 200, created.content
    assert created.json()["modelVersion"]["status"] == "UPLOAD_PENDING"
    assert created.json()["modelVersion"]["storageVersion"] == "V2"

    version = client.get(f"{ALPHA_MODELS}/final_review_model/versions/1").json()["modelVersion"]
    assert version["versionId"] == "1"
    assert (version["accuracyReached"], version["batchSize"], version["gpuModel"]) == ("96.5", "2000", "V100")
    assert (version["memoryFootprint"], version["numberOfEpochs"]) == ("4GB", "100")
    assert version["description"] == "A new and exciting version: 1"
    assert version["otherContents"] == [{"key": "Other", "value": "www.example.com/model/v1"}]
    assert version["ownerName"] == "My Name"
    assert version["customMetrics"] == [ZEPPELIN, RHCP]
    assert [a["key"] for a in version["customMetrics"][0]["attributes"]] == ["Robert", "Jimmy", "John", "John"]
    assert version["isSigned"] is False and version["totalFileCount"] == 0 and version["totalSizeInBytes"] == 0
    assert DATE.match(version["createdDate"]) and version["createdByUser"] == personas.alpha_registry_user.name


def test_a_fourth_metrics_table_is_refused_naming_the_limit_and_nothing_is_stored(personas, api):
    make_model(personas)
    body = guide_version_body(metrics=[ZEPPELIN, RHCP, {**ZEPPELIN, "name": "T3"}, {**RHCP, "name": "T4"}])
    response = api(personas.alpha_registry_user).post(f"{ALPHA_MODELS}/final_review_model/versions", body, format="json")
    assert response.status_code == 400
    assert "At most 3 custom metrics tables" in response.json()["requestStatus"]["statusDescription"]
    assert not ArtifactVersion.objects.exists()


def test_a_thirteenth_attribute_is_refused_naming_the_limit_and_nothing_is_stored(personas, api):
    make_model(personas)
    big = {"name": "Big", "attributes": [{"key": f"k{i}", "value": str(i)} for i in range(13)]}
    response = api(personas.alpha_registry_user).post(
        f"{ALPHA_MODELS}/final_review_model/versions", guide_version_body(metrics=[big]), format="json"
    )
    assert response.status_code == 400
    assert "at most 12 are allowed" in response.json()["requestStatus"]["statusDescription"]
    assert not ArtifactVersion.objects.exists()


def test_an_existing_version_is_a_conflict_so_the_client_resumes(personas, api):
    make_model(personas)
    client = api(personas.alpha_registry_user)
    assert client.post(f"{ALPHA_MODELS}/final_review_model/versions", {"versionId": "1"}, format="json").status_code == 200
    assert client.post(f"{ALPHA_MODELS}/final_review_model/versions", {"versionId": "1"}, format="json").status_code == 409


def test_a_model_version_needs_a_version_id_but_resources_auto_increment(personas, api):
    make_model(personas)
    client = api(personas.alpha_registry_user)
    assert client.post(f"{ALPHA_MODELS}/final_review_model/versions", {}, format="json").status_code == 400
    resources = "/v2/org/acme/team/alpha/resources"
    client.post(resources, {"name": "cmr_gnmt"}, format="json")
    made = [
        client.post(f"{resources}/cmr_gnmt/versions", body, format="json").json()["recipeVersion"]["versionId"]
        for body in ({}, {"versionId": "first-upload"}, {"versionId": None}, {"versionId": "7"}, {})
    ]
    assert made == ["1", "first-upload", "2", "7", "8"]


def test_updating_a_version_changes_metadata_and_refuses_other_statuses(personas, api):
    model = make_model(personas)
    services.version_create(actor=personas.alpha_registry_user, artifact=model, version="1")
    client = api(personas.alpha_registry_user)
    url = f"{ALPHA_MODELS}/final_review_model/versions/1"
    response = client.patch(url, {"accuracyReached": "96.5", "memoryFootprint": "16GB"}, format="json")
    assert response.status_code == 200
    assert response.json()["modelVersion"]["memoryFootprint"] == "16GB"
    assert client.patch(url, {"status": "UPLOAD_FAILED"}, format="json").status_code == 400


def test_versions_list_in_semver_order_with_other_strings_after(personas, api):
    model = make_model(personas)
    for version in ["1.0.0", "first", "1.10.0", "1.2.0", "2.0.0-rc.1", "2.0.0", "later"]:
        services.version_create(actor=personas.alpha_registry_user, artifact=model, version=version)
    body = api(personas.alpha_registry_user).get(
        f"{ALPHA_MODELS}/final_review_model/versions?page-size=1000&sort-order=SEMVER_DESC"
    ).json()
    assert [v["versionId"] for v in body["modelVersions"]] == [
        "2.0.0", "2.0.0-rc.1", "1.10.0", "1.2.0", "1.0.0", "later", "first",
    ]
    assert body["paginationInfo"]["totalPages"] == 1


def test_a_pending_version_is_never_latest_and_deleting_latest_repoints_it(personas, api):
    model = make_model(personas)
    user = personas.alpha_registry_user
    v1 = services.version_create(actor=user, artifact=model, version="1.0")
    complete(v1, size=10)
    v2 = services.version_create(actor=user, artifact=model, version="2.0")
    complete(v2, size=20)
    services.version_create(actor=user, artifact=model, version="3.0")  # pending
    client = api(user)
    info = client.get(f"{ALPHA_MODELS}/final_review_model").json()["model"]
    assert (info["latestVersionIdStr"], info["latestVersionSizeInBytes"]) == ("2.0", 20)
    assert client.delete(f"{ALPHA_MODELS}/final_review_model/versions/2.0").status_code == 200
    info = client.get(f"{ALPHA_MODELS}/final_review_model").json()["model"]
    assert (info["latestVersionIdStr"], info["latestVersionSizeInBytes"]) == ("1.0", 10)


def test_the_file_list_of_a_version_is_paged(personas, api):
    make_model(personas)
    client = api(personas.alpha_registry_user)
    client.post(f"{ALPHA_MODELS}/final_review_model/versions", {"versionId": "1"}, format="json")
    body = client.get(f"{ALPHA_MODELS}/final_review_model/versions/1/files?page-size=1000").json()
    assert body["modelFiles"] == [] and body["paginationInfo"]["totalPages"] == 0


# --- delete rights --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "persona, creator, expected",
    [
        ("alpha_registry_read", "alpha_registry_user", 403),
        ("beta_user", "alpha_registry_user", 404),
        ("outsider", "alpha_registry_user", 404),
        ("alpha_registry_user", "alpha_registry_user", 200),
        ("alpha_registry_user", "alpha_registry_admin", 403),
        ("alpha_registry_admin", "alpha_registry_user", 200),
        ("org_registry_admin", "alpha_registry_user", 200),
        ("owner", "alpha_registry_user", 200),
    ],
)
@pytest.mark.parametrize("target", ["artifact", "version"])
def test_deleting_needs_registry_admin_or_being_the_creator(personas, api, persona, creator, expected, target):
    model = make_model(personas, actor=getattr(personas, creator))
    services.version_create(actor=getattr(personas, creator), artifact=model, version="1")
    url = f"{ALPHA_MODELS}/final_review_model" + ("/versions/1" if target == "version" else "")
    response = api(getattr(personas, persona)).delete(url)
    assert response.status_code == expected, response.content
    if target == "artifact":
        assert VersionedArtifact.objects.exists() == (expected != 200)
    assert ArtifactVersion.objects.exists() == (expected != 200)


# --- search (list with wildcards) -----------------------------------------------------------


def search(client, org_path: str, kind: str, pattern: str) -> list[str]:
    q = json.dumps({"query": f"resourceId:{pattern}", "page": 0, "pageSize": 100})
    response = client.get(f"/v2/search/{org_path}/resources/{kind}", {"q": q})
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert all(group["groupValue"] == kind for group in results)
    return sorted(hit["resourceId"] for group in results for hit in group["resources"])


def test_a_wildcard_list_spans_the_org_and_the_callers_teams_only(personas, api):
    make_model(personas, name="alpha_model")
    make_model(personas, name="beta_model", space=personas.beta_space, actor=personas.beta_user)
    make_model(personas, name="org_model", space=personas.acme_space, actor=personas.org_registry_user)
    make_model(personas, name="other", space=personas.acme_space, actor=personas.org_registry_user)
    services.artifact_create(
        actor=personas.alpha_registry_user, space=personas.alpha_space, kind=ArtifactKind.RESOURCE, name="alpha_recipe"
    )
    alpha = api(personas.alpha_registry_user)
    assert search(alpha, "org/acme", "MODEL", "acme/*") == ["acme/alpha/alpha_model"]  # no org-level role
    assert search(alpha, "org/acme/team/alpha", "MODEL", "acme/alpha/*") == ["acme/alpha/alpha_model"]
    assert search(alpha, "org/acme/team/alpha", "RECIPE", "*") == ["acme/alpha/alpha_recipe"]
    admin = api(personas.org_registry_admin)
    assert search(admin, "org/acme", "MODEL", "acme/*") == [
        "acme/alpha/alpha_model", "acme/beta/beta_model", "acme/org_model", "acme/other",
    ]
    assert search(admin, "org/acme", "MODEL", "acme/*_model") == [
        "acme/alpha/alpha_model", "acme/beta/beta_model", "acme/org_model",
    ]
    assert search(admin, "org/acme", "MODEL", "acme/o?her") == ["acme/other"]
    assert search(api(personas.beta_user), "org/acme", "MODEL", "*") == ["acme/beta/beta_model"]


def test_a_search_hit_carries_the_attributes_the_client_flattens(personas, api):
    model = make_model(personas, application="OBJECT_DETECTION", framework="TensorFlow", precision="FP16", model_format="ONNX")
    complete(services.version_create(actor=personas.alpha_registry_user, artifact=model, version="1.0"), size=42)
    q = json.dumps({"query": "resourceId:acme/alpha/*"})
    body = api(personas.alpha_registry_user).get("/v2/search/org/acme/team/alpha/resources/MODEL", {"q": q}).json()
    hit = body["results"][0]["resources"][0]
    attributes = {a["key"]: a["value"] for a in hit["attributes"]}
    assert attributes == {
        "application": "Object Detection", "framework": "TensorFlow", "precision": "FP16", "format": "ONNX",
        "latestVersionIdStr": "1.0", "latestVersionSizeInBytes": "42",
    }
    assert hit["resourceId"] == "acme/alpha/final_review_model" and hit["orgName"] == "acme" and hit["teamName"] == "alpha"
    assert body["resultPageTotal"] == 1


# --- query counts ---------------------------------------------------------------------------


def _queries(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = call()
        assert response.status_code == 200
    return len(captured)


def test_lists_take_the_same_number_of_queries_for_one_row_or_many(personas, api):
    user = personas.alpha_registry_user
    model = make_model(personas)
    make_model(personas, name="m0")
    complete(services.version_create(actor=user, artifact=model, version="0"))
    client = api(user)
    q = json.dumps({"query": "resourceId:acme/*"})

    def measure():
        return (
            _queries(lambda: client.get("/v2/search/org/acme/team/alpha/resources/MODEL", {"q": q})),
            _queries(lambda: client.get(f"{ALPHA_MODELS}/final_review_model/versions?sort-order=SEMVER_DESC")),
        )

    measure()  # warm the per-user permission cache, which force_authenticate keeps across requests
    before = measure()
    for index in range(1, 6):
        make_model(personas, name=f"m{index}")
        complete(services.version_create(actor=user, artifact=model, version=str(index)))
    assert measure() == before


def test_the_openapi_schema_still_generates(personas, api):
    response = api(personas.owner).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert "/v2/org/{org}/team/{team}/models/{name}/versions/{version}" in response.json()["paths"]


def test_label_sets_are_an_empty_list_for_any_signed_in_caller_and_refused_anonymously(api, personas):
    # NVIDIA's client reads them before a create or update with --label (guide 4.1's `--label "fast"`).
    response = api(personas.alpha_registry_read).get("/v2/search/labelsets?resource-type=MODEL")

    assert response.status_code == 200
    assert response.json()["labelSets"] == []
    assert APIClient().get("/v2/search/labelsets?resource-type=MODEL").status_code == 401
