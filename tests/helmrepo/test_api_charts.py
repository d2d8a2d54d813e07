"""The NGC API's Helm chart endpoints (reference/ngc-api.md §5.6, guide 6.4-6.5): response shapes
NVIDIA's client reads, the guide's PATCH body, DELETE of charts and versions, file lists, search
type HELM_CHART, and who is refused (CONVENTIONS 17). Versions are pushed through helmrepo.services."""
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from helmrepo import services
from helmrepo.models import Chart, ChartVersion
from tests.helmrepo import charts

pytestmark = pytest.mark.django_db
DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
ALPHA = "/v2/org/acme/team/alpha/helm-charts"
ORG = "/v2/org/acme/helm-charts"


def push(user, space, name: str, version: str) -> ChartVersion:
    return services.chart_version_push(actor=user, space=space, chunks=[charts.package(name, version)])


@pytest.fixture
def demo(personas):
    """acme/alpha/demo, created by the team's registry user, with versions 0.1.0, 1.0.0 and 0.9.0."""
    chart = services.chart_create(
        actor=personas.alpha_registry_user, space=personas.alpha_space, name="demo", short_description="Doc testing chart",
    )
    for version in ("0.1.0", "1.0.0", "0.9.0"):
        push(personas.alpha_registry_user, personas.alpha_space, "demo", version)
    chart.refresh_from_db()
    return chart


# --- create / info / update ------------------------------------------------------------------------


def test_create_answers_the_artifact_as_the_cli_prints_it(personas, api):
    body = {"name": "ngcdocstest", "shortDescription": "Doc testing chart", "description": None, "displayName": None,
            "labelsV2": [], "logo": None, "publisher": None, "builtBy": None}
    response = api(personas.org_registry_user).post(ORG, body, format="json")
    assert response.status_code == 200, response.content
    artifact = response.json()["artifact"]
    assert artifact["name"] == "ngcdocstest" and artifact["shortDescription"] == "Doc testing chart"
    assert artifact["orgName"] == "acme" and artifact["teamName"] is None
    assert artifact["latestVersionId"] is None and artifact["labels"] == []
    assert DATE.match(artifact["createdDate"]) and DATE.match(artifact["updatedDate"])
    assert response.json()["requestStatus"]["statusCode"] == "SUCCESS"


def test_create_needs_a_name_and_a_short_description_and_refuses_a_taken_name(personas, api):
    client = api(personas.alpha_registry_user)
    assert client.post(ALPHA, {"shortDescription": "x"}, format="json").status_code == 400
    missing = client.post(ALPHA, {"name": "nodesc"}, format="json")
    assert missing.status_code == 400 and "shortDescription" in missing.json()["detail"]
    assert client.post(ALPHA, {"name": "demo", "shortDescription": "x"}, format="json").status_code == 200
    taken = client.post(ALPHA, {"name": "demo", "shortDescription": "again"}, format="json")
    assert taken.status_code == 409 and taken.json()["requestStatus"]["statusCode"] == "ALREADY_EXISTS"
    assert client.post(ALPHA, ["not", "an", "object"], format="json").status_code == 400


def test_info_reports_the_latest_version_id_as_a_string_and_its_size(personas, api, demo):
    response = api(personas.alpha_registry_read).get(f"{ALPHA}/demo", {"resolve-labels": "false"})
    artifact = response.json()["artifact"]
    latest = ChartVersion.objects.get(chart=demo, version="1.0.0")
    assert artifact["latestVersionId"] == "1.0.0" and isinstance(artifact["latestVersionId"], str)
    assert artifact["latestVersionSizeInBytes"] == latest.size
    assert artifact["teamName"] == "alpha"


def test_patch_with_the_guides_json_changes_the_chart_page(personas, api, demo):
    body = {"attributes": [{"key": "string", "value": "string"}], "builtBy": "NVIDIA", "description": "#NGC Docs Chart",
            "displayName": "NGC DOCS CHART TEST", "labels": ["Helm Chart", "Documentation"], "logo": "https://example.test/logo.png",
            "publisher": "test account", "shortDescription": "This charts is for the docs!"}
    response = api(personas.alpha_registry_user).patch(f"{ALPHA}/demo", body, format="json")
    assert response.status_code == 200, response.content
    artifact = response.json()["artifact"]
    assert artifact["displayName"] == "NGC DOCS CHART TEST" and artifact["description"] == "#NGC Docs Chart"
    assert artifact["labels"] == ["Helm Chart", "Documentation"] and artifact["builtBy"] == "NVIDIA"
    demo.refresh_from_db()
    assert (demo.overview, demo.publisher, demo.short_description) == ("#NGC Docs Chart", "test account", "This charts is for the docs!")
    assert demo.logo == "https://example.test/logo.png"


def test_patch_changes_only_the_fields_sent_and_labelsV2_wins_over_labels(personas, api, demo):
    client = api(personas.alpha_registry_user)
    client.patch(f"{ALPHA}/demo", {"publisher": "Acme"}, format="json")
    response = client.patch(f"{ALPHA}/demo", {"labelsV2": ["a"], "labels": ["b"], "displayName": None}, format="json")
    assert response.json()["artifact"]["labels"] == ["a"]
    demo.refresh_from_db()
    assert demo.publisher == "Acme" and demo.short_description == "Doc testing chart"


def test_patch_refuses_an_empty_short_description_and_a_bad_logo(personas, api, demo):
    client = api(personas.alpha_registry_user)
    assert client.patch(f"{ALPHA}/demo", {"shortDescription": ""}, format="json").status_code == 400
    assert client.patch(f"{ALPHA}/demo", {"logo": "javascript:alert(1)"}, format="json").status_code == 400


# --- versions and files ---------------------------------------------------------------------------


def test_versions_are_listed_highest_semver_first_with_string_ids(personas, api, demo):
    response = api(personas.alpha_registry_read).get(f"{ALPHA}/demo/versions", {"page-size": 1000, "sort-order": "SEMVER_DESC"})
    body = response.json()
    rows = body["artifactVersions"]
    assert [row["id"] for row in rows] == ["1.0.0", "0.9.0", "0.1.0"]
    assert rows[0]["status"] == "UPLOAD_COMPLETE" and rows[0]["totalFileCount"] == 4
    assert rows[0]["totalSizeInBytes"] == ChartVersion.objects.get(chart=demo, version="1.0.0").size
    assert DATE.match(rows[0]["createdDate"])
    assert body["paginationInfo"]["totalPages"] == 1 and body["paginationInfo"]["totalResults"] == 3


def test_versions_are_paged(personas, api, demo):
    client = api(personas.alpha_registry_read)
    second = client.get(f"{ALPHA}/demo/versions", {"page-size": 2, "page-number": 1}).json()
    assert [row["id"] for row in second["artifactVersions"]] == ["0.1.0"] and second["paginationInfo"]["totalPages"] == 2
    assert client.get(f"{ALPHA}/demo/versions", {"page-size": 2, "page-number": 5}).json()["artifactVersions"] == []
    assert client.get(f"{ALPHA}/demo/versions", {"page-size": "x"}).status_code == 400


def test_version_info_and_its_files(personas, api, demo):
    client = api(personas.alpha_registry_read)
    version = client.get(f"{ALPHA}/demo/versions/0.9.0", {"resolve-labels": "false"}).json()["artifactVersion"]
    assert version["id"] == "0.9.0" and version["status"] == "UPLOAD_COMPLETE" and version["totalFileCount"] == 4
    files = client.get(f"{ALPHA}/demo/versions/0.9.0/files", {"page-size": 1000}).json()
    assert [row["path"] for row in files["artifactFiles"]] == [
        "demo/.helmignore", "demo/Chart.yaml", "demo/templates/deployment.yaml", "demo/values.yaml",
    ]
    assert {"path": "demo/values.yaml", "sizeInBytes": 43} in files["artifactFiles"]
    assert files["paginationInfo"]["totalPages"] == 1
    assert client.get(f"{ALPHA}/demo/versions/7.7.7").status_code == 404
    assert client.get(f"{ALPHA}/demo/versions/7.7.7/files").status_code == 404


def test_deleting_a_version_moves_latest_to_the_next_highest(personas, api, demo):
    response = api(personas.alpha_registry_user).delete(f"{ALPHA}/demo/versions/1.0.0")
    assert response.status_code == 200 and response.json()["artifactVersion"]["id"] == "1.0.0"
    info = api(personas.alpha_registry_read).get(f"{ALPHA}/demo").json()["artifact"]
    assert info["latestVersionId"] == "0.9.0"


# --- delete ---------------------------------------------------------------------------------------


def test_the_creator_deletes_the_chart_with_all_its_versions(personas, api, demo):
    response = api(personas.alpha_registry_user).delete(f"{ALPHA}/demo")
    assert response.status_code == 200 and response.json()["artifact"]["name"] == "demo"
    assert not Chart.objects.filter(pk=demo.pk).exists() and not ChartVersion.objects.filter(chart_id=demo.pk).exists()
    assert api(personas.alpha_registry_user).get(f"{ALPHA}/demo").status_code == 404


def test_another_registry_user_may_not_delete_but_a_registry_admin_may(personas, api, demo):
    other = personas.alpha_registry_admin
    services.chart_create(actor=personas.owner, space=personas.alpha_space, name="owned", short_description="x")
    refused = api(personas.alpha_registry_user).delete(f"{ALPHA}/owned")
    assert refused.status_code == 403 and Chart.objects.filter(name="owned").exists()
    assert api(personas.alpha_registry_user).delete(f"{ALPHA}/owned/versions/0.1.0").status_code == 404
    assert api(other).delete(f"{ALPHA}/owned").status_code == 200
    assert api(personas.org_registry_admin).delete(f"{ALPHA}/demo").status_code == 200


# --- who is refused -------------------------------------------------------------------------------


def test_registry_read_may_look_but_every_write_is_403(personas, api, demo):
    client = api(personas.alpha_registry_read)
    assert client.get(f"{ALPHA}/demo").status_code == 200
    assert client.post(ALPHA, {"name": "x", "shortDescription": "x"}, format="json").status_code == 403
    assert client.patch(f"{ALPHA}/demo", {"publisher": "x"}, format="json").status_code == 403
    assert client.delete(f"{ALPHA}/demo").status_code == 403
    assert client.delete(f"{ALPHA}/demo/versions/1.0.0").status_code == 403
    assert ChartVersion.objects.filter(chart=demo).count() == 3


@pytest.mark.parametrize("persona", ["beta_user", "outsider", "org_registry_user", "alpha_user_read"])
def test_those_outside_the_team_get_404_everywhere(personas, api, demo, persona):
    client = api(getattr(personas, persona))
    for path in (f"{ALPHA}/demo", f"{ALPHA}/demo/versions", f"{ALPHA}/demo/versions/1.0.0", f"{ALPHA}/demo/versions/1.0.0/files"):
        assert client.get(path).status_code == 404, path
    assert client.patch(f"{ALPHA}/demo", {"publisher": "x"}, format="json").status_code == 404
    assert client.delete(f"{ALPHA}/demo").status_code == 404
    assert client.delete(f"{ALPHA}/demo/versions/1.0.0").status_code == 404
    assert Chart.objects.filter(pk=demo.pk).exists()


def test_another_org_is_404_and_anonymous_is_401(personas, api):
    assert api(personas.owner).get("/v2/org/globex/helm-charts/x").status_code == 404
    assert api(personas.owner).post("/v2/org/globex/helm-charts", {"name": "x", "shortDescription": "x"}, format="json").status_code == 404
    assert APIClient().get(f"{ALPHA}/demo").status_code == 401


# --- search ---------------------------------------------------------------------------------------


def search(client, path: str, pattern: str):
    return client.get(path, {"q": json.dumps({"query": f"resourceId:{pattern}", "page": 0, "pageSize": 100})})


def test_search_lists_the_charts_one_may_read_with_latest_version_attributes(personas, api, demo):
    services.chart_create(actor=personas.owner, space=personas.acme_space, name="orgwide", short_description="Org chart")
    services.chart_create(actor=personas.owner, space=personas.beta_space, name="hidden", short_description="Beta chart")
    body = search(api(personas.alpha_registry_read), "/v2/search/org/acme/resources/HELM_CHART", "acme/*").json()
    resources = body["results"][0]["resources"]
    assert body["results"][0]["groupValue"] == "HELM_CHART"
    assert [r["resourceId"] for r in resources] == ["acme/alpha/demo"]  # no org-level READ, no beta
    attributes = {a["key"]: a["value"] for a in resources[0]["attributes"]}
    assert attributes["latestVersionIdStr"] == "1.0.0" and int(attributes["latestVersionSizeInBytes"]) > 0
    owner = search(api(personas.owner), "/v2/search/org/acme/resources/HELM_CHART", "acme/*").json()
    assert sorted(r["resourceId"] for r in owner["results"][0]["resources"]) == ["acme/alpha/demo", "acme/beta/hidden", "acme/orgwide"]
    narrowed = search(api(personas.owner), "/v2/search/org/acme/resources/HELM_CHART", "*demo*").json()
    assert [r["resourceId"] for r in narrowed["results"][0]["resources"]] == ["acme/alpha/demo"]
    team = search(api(personas.beta_user), "/v2/search/org/acme/team/beta/resources/HELM_CHART", "*").json()
    assert [r["resourceId"] for r in team["results"][0]["resources"]] == ["acme/beta/hidden"]


# --- no N+1 ---------------------------------------------------------------------------------------


def _queries(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = call()
        assert response.status_code == 200, response.content
    return len(captured)


def test_lists_take_the_same_number_of_queries_for_few_rows_or_many(personas, api):
    user = personas.alpha_registry_user
    client = api(user)
    q = json.dumps({"query": "resourceId:acme/*"})

    def counts() -> tuple[int, int]:
        return (
            _queries(lambda: client.get(f"{ALPHA}/c0/versions")),
            _queries(lambda: client.get("/v2/search/org/acme/team/alpha/resources/HELM_CHART", {"q": q})),
        )

    push(user, personas.alpha_space, "c0", "0.1.0")
    counts()  # the first request also loads the user's permissions, cached for the later ones
    few = counts()
    for index in range(1, 5):
        push(user, personas.alpha_space, f"c{index}", "0.1.0")
        push(user, personas.alpha_space, "c0", f"1.{index}.0")
    assert counts() == few
