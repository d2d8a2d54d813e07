"""The NGC API's container endpoints: /v2/{ot}/repos…, and the search endpoints for TYPE CONTAINER."""
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from artifacts import services
from artifacts.models import Repository, Tag
from tests.support.oci import OCI_INDEX, OCI_MANIFEST, error_codes

DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
ALPHA = "/v2/org/acme/team/alpha/repos"


@pytest.fixture
def app(personas, registry):
    """acme/alpha/app: tag 1.0 pushed by the team's registry admin (who created the repository)."""
    digest, _ = registry(personas.alpha_registry_admin).push_image("acme/alpha/app", "1.0")
    return digest


def push_multi_arch(client, name: str, tag: str) -> str:
    amd, amd_body = client.push_image(name, f"{tag}-amd64", layer=b"amd64-layer")
    arm, arm_body = client.push_image(
        name, f"{tag}-arm64", layer=b"arm64-layer", config=b'{"architecture":"arm64","os":"linux","variant":"v8"}'
    )
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        {"mediaType": OCI_MANIFEST, "digest": amd, "size": len(amd_body), "platform": {"architecture": "amd64", "os": "linux"}},
        {"mediaType": OCI_MANIFEST, "digest": arm, "size": len(arm_body),
         "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}},
    ]}
    response, body = client.push_manifest(name, tag, index, OCI_INDEX)
    assert response.status_code == 201, response.content
    return response["Docker-Content-Digest"]


# --- create, info, update, delete ----------------------------------------------------------------


def test_it_creates_a_metadata_record_before_any_push(personas, api):
    response = api(personas.alpha_registry_user).post(ALPHA, {
        "name": "tools", "shortDescription": "Test description.", "description": "# Overview\n\ntext",
        "displayName": "Tools", "labelsV2": ["Machine Learning", "Retail", "Retail"], "logo": "https://logo.test/l.png",
        "publisher": "NVIDIA", "builtBy": "Kristina", "multinode": False,
    }, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["requestStatus"]["statusCode"] == "SUCCESS"
    assert body["name"] == "tools" and body["resourceId"] == "acme/alpha/tools" and body["namespace"] == "acme/alpha"
    assert body["labels"] == ["Machine Learning", "Retail"]
    assert (body["shortDescription"], body["description"], body["builtBy"]) == ("Test description.", "# Overview\n\ntext", "Kristina")
    assert body["tags"] == [] and body["latestTag"] is None and body["isPublic"] is False
    assert DATE.match(body["updatedDate"])
    again = api(personas.alpha_registry_user).post(ALPHA, {"name": "tools"}, format="json")
    assert again.status_code == 409


def test_info_lists_tags_with_digest_size_and_platforms(personas, api, registry, app):
    client = registry(personas.alpha_registry_admin)
    index_digest = push_multi_arch(client, "acme/alpha/app", "2.0")
    response = api(personas.alpha_registry_read).get(f"{ALPHA}/app?resolve-labels=false")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["latestTag"] == "2.0" and body["isMultiArchitecture"] is True
    assert sorted(body["tags"]) == ["1.0", "2.0", "2.0-amd64", "2.0-arm64"]
    details = {tag["tag"]: tag for tag in body["tagDetails"]}
    assert details["1.0"]["digest"] == app
    assert details["1.0"]["size"] == len(b"layer-bytes") + len(b'{"architecture":"amd64","os":"linux"}')
    assert details["2.0"]["digest"] == index_digest
    assert details["2.0"]["size"] == details["2.0-amd64"]["size"] + details["2.0-arm64"]["size"]
    platforms = {(v["os"], v["architecture"], v["variant"]) for v in details["2.0"]["architectureVariants"]}
    assert platforms == {("linux", "amd64", ""), ("linux", "arm64", "v8")}
    assert {v["digest"] for v in details["2.0"]["architectureVariants"]} == {details["2.0-amd64"]["digest"], details["2.0-arm64"]["digest"]}
    assert body["latestImageSize"] == details["2.0"]["size"]
    assert len(body["latestArchitectureVariants"]) == 2


def test_update_changes_only_what_is_sent(personas, api, app):
    client = api(personas.alpha_registry_user)
    response = client.patch(f"{ALPHA}/app", {"shortDescription": "A test container.", "labelsV2": [" ML ", "ML"]}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["shortDescription"] == "A test container." and response.json()["labels"] == ["ML"]
    response = client.patch(f"{ALPHA}/app", {"publisher": "NVIDIA"}, format="json")
    body = response.json()
    assert (body["publisher"], body["shortDescription"], body["labels"]) == ("NVIDIA", "A test container.", ["ML"])


@pytest.mark.parametrize("payload", [
    {"logo": "javascript:alert(1)"},
    {"logo": "www.logo.com/logo.png"},
    {"shortDescription": "fine", "logo": "ftp://logo.test/x.png"},
    {"labelsV2": "ML"},
    {"labelsV2": [1]},
    {"displayName": 5},
    {"isPublic": "yes"},
    {"displayName": "x" * 300},
    ["not", "an", "object"],
])
def test_bad_input_is_a_400_and_changes_nothing(personas, api, app, payload):
    before = Repository.objects.values().get(name="acme/alpha/app")
    response = api(personas.alpha_registry_admin).patch(f"{ALPHA}/app", payload, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["requestStatus"]["statusCode"] == "INVALID_REQUEST"
    assert Repository.objects.values().get(name="acme/alpha/app") == before


def test_bad_names_are_a_400(personas, api):
    for name in ("Upper", "a//b", "", "-x"):
        assert api(personas.alpha_registry_user).post(ALPHA, {"name": name}, format="json").status_code == 400
    assert api(personas.org_registry_admin).post("/v2/org/acme/repos", {"name": "alpha/x"}, format="json").status_code == 400
    assert not Repository.objects.exists()


def test_unlocking_is_for_admins_and_the_creator(personas, api, app):
    response = api(personas.alpha_registry_user).patch(f"{ALPHA}/app", {"isPublic": True}, format="json")
    assert response.status_code == 403
    response = api(personas.alpha_registry_admin).patch(f"{ALPHA}/app", {"isPublic": True}, format="json")
    assert response.status_code == 200 and response.json()["isPublic"] is True


def test_deleting_a_repository_makes_the_registry_answer_name_unknown(personas, api, registry, app):
    push_multi_arch(registry(personas.alpha_registry_admin), "acme/alpha/app", "2.0")
    response = api(personas.alpha_registry_admin).delete(f"{ALPHA}/app")
    assert response.status_code == 200 and response.json()["requestStatus"]["statusCode"] == "SUCCESS"
    pulled = registry(personas.alpha_registry_admin).request("GET", "/v2/acme/alpha/app/manifests/1.0")
    assert pulled.status_code == 404 and error_codes(pulled) == ["NAME_UNKNOWN"]
    assert api(personas.alpha_registry_admin).get(f"{ALPHA}/app").status_code == 404


def test_a_registry_user_deletes_only_what_they_created(personas, api, registry, app):
    client = api(personas.alpha_registry_user)
    assert client.delete(f"{ALPHA}/app").status_code == 403
    assert client.delete(f"{ALPHA}/app/images/1.0").status_code == 403
    registry(personas.alpha_registry_user).push_image("acme/alpha/app", "mine", layer=b"mine")
    assert client.delete(f"{ALPHA}/app/images/mine").status_code == 200
    assert client.delete(f"{ALPHA}/app/images/mine").status_code == 404
    assert client.post(ALPHA, {"name": "own"}, format="json").status_code == 200
    assert client.delete(f"{ALPHA}/own").status_code == 200
    assert set(Repository.objects.values_list("name", flat=True)) == {"acme/alpha/app"}


# --- images and tags ----------------------------------------------------------------------------


def test_images_are_paged_with_architecture_variants(personas, api, registry, app):
    push_multi_arch(registry(personas.alpha_registry_admin), "acme/alpha/app", "2.0")
    client = api(personas.alpha_registry_read)
    response = client.get(f"{ALPHA}/app/images?page-size=2")
    body = response.json()
    assert response.status_code == 200
    assert body["paginationInfo"] == {"index": 0, "size": 2, "totalResults": 4, "totalPages": 2}
    assert len(body["images"]) == 2
    second = client.get(f"{ALPHA}/app/images?page-size=2&page-number=1").json()["images"]
    images = {image["tag"]: image for image in body["images"] + second}
    assert set(images) == {"1.0", "2.0", "2.0-amd64", "2.0-arm64"}
    assert images["1.0"]["architectureVariants"] == [
        {"architecture": "amd64", "os": "linux", "variant": "", "digest": app}
    ]
    assert images["2.0"]["isMultiArchitecture"] is True and len(images["2.0"]["architectureVariants"]) == 2
    assert DATE.match(images["1.0"]["updatedDate"])


def test_image_and_tag_details(personas, api, registry, app):
    client = api(personas.alpha_registry_read)
    image = client.get(f"{ALPHA}/app/images/1.0").json()
    assert (image["name"], image["tag"], image["digest"], image["architecture"]) == ("acme/alpha/app", "1.0", app, "amd64")
    tag = client.get(f"{ALPHA}/app/tags/1.0").json()
    assert tag["tag"] == "1.0" and tag["digest"] == app and tag["isLatest"] is True
    assert client.get(f"{ALPHA}/app/tags/9.9").status_code == 404
    assert client.get(f"{ALPHA}/app/images/9.9").status_code == 404


def test_set_latest_pins_a_tag(personas, api, registry, app):
    registry(personas.alpha_registry_admin).push_image("acme/alpha/app", "2.0", layer=b"two")
    assert api(personas.alpha_registry_read).patch(f"{ALPHA}/app/tags/1.0?set-latest=true", {}, format="json").status_code == 403
    response = api(personas.alpha_registry_user).patch(f"{ALPHA}/app/tags/1.0?set-latest=true", {}, format="json")
    assert response.status_code == 200 and response.json()["isLatest"] is True
    assert api(personas.alpha_registry_read).get(f"{ALPHA}/app").json()["latestTag"] == "1.0"


def test_nested_repository_names(personas, api, registry):
    registry(personas.alpha_registry_user).push_image("acme/alpha/tools/cuda", "1")
    client = api(personas.alpha_registry_user)
    assert client.get(f"{ALPHA}/tools/cuda").json()["name"] == "tools/cuda"
    assert client.get(f"{ALPHA}/tools/cuda/images").json()["images"][0]["tag"] == "1"
    assert client.get(f"{ALPHA}/tools/cuda/images/1").status_code == 200


# --- who may see what ---------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["beta_user", "outsider", "org_registry_read"])
def test_other_teams_and_orgs_do_not_see_a_team_repository(personas, api, app, persona):
    client = api(getattr(personas, persona))
    for method, path in (
        ("get", f"{ALPHA}/app"), ("patch", f"{ALPHA}/app"), ("delete", f"{ALPHA}/app"),
        ("get", f"{ALPHA}/app/images"), ("get", f"{ALPHA}/app/images/1.0"), ("delete", f"{ALPHA}/app/images/1.0"),
        ("get", f"{ALPHA}/app/tags/1.0"), ("patch", f"{ALPHA}/app/tags/1.0?set-latest=true"), ("get", ALPHA),
    ):
        response = getattr(client, method)(path, {}, format="json") if method == "patch" else getattr(client, method)(path)
        assert response.status_code == 404, (method, path, response.content)
    assert Tag.objects.filter(name="1.0").exists()


def test_a_reader_cannot_write(personas, api, app):
    client = api(personas.alpha_registry_read)
    assert client.patch(f"{ALPHA}/app", {"publisher": "x"}, format="json").status_code == 403
    assert client.delete(f"{ALPHA}/app").status_code == 403
    assert client.delete(f"{ALPHA}/app/images/1.0").status_code == 403
    assert client.post(ALPHA, {"name": "new"}, format="json").status_code == 403
    assert Repository.objects.get(name="acme/alpha/app").publisher == ""


def test_anonymous_callers_are_refused(app):
    assert APIClient().get(f"{ALPHA}/app").status_code in (401, 403)


def test_a_token_for_another_org_is_refused(personas, client, app):
    from accounts import tokens
    from accounts.authentication import NGC_AUDIENCE

    token, _ = tokens.issue_access_token(user_id=personas.owner.pk, audience=NGC_AUDIENCE, scopes=["group/ngc:globex"])
    response = client.get(f"{ALPHA}/app", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 403
    token, _ = tokens.issue_access_token(user_id=personas.owner.pk, audience=NGC_AUDIENCE, scopes=["group/ngc:acme"])
    assert client.get(f"{ALPHA}/app", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200


def test_the_list_shows_only_the_spaces_visible_repositories(personas, api, registry, app):
    registry(personas.beta_user).push_image("acme/beta/secret", "1")
    registry(personas.org_registry_admin).push_image("acme/web", "1")
    registry(personas.org_registry_admin).push_image("acme/webtools", "1")
    alpha = api(personas.alpha_registry_read).get(ALPHA).json()
    assert [r["resourceId"] for r in alpha["repositories"]] == ["acme/alpha/app"]
    assert alpha["repositories"][0]["latestTag"] == "1.0" and alpha["repositories"][0]["latestImageSize"] > 0
    assert alpha["paginationInfo"]["totalResults"] == 1
    org = api(personas.org_registry_read).get("/v2/org/acme/repos?name=web*").json()
    assert [r["resourceId"] for r in org["repositories"]] == ["acme/web", "acme/webtools"]
    assert api(personas.org_registry_read).get("/v2/org/acme/repos?name=web").json()["paginationInfo"]["totalResults"] == 1


# --- search -------------------------------------------------------------------------------------


def search(client, path: str, pattern: str, **extra):
    q = {"query": f"resourceId:{pattern}", "queryFields": ["all"], "fields": [], "page": 0, "pageSize": 100, **extra}
    return client.get(path, {"q": json.dumps(q)})


def test_search_lists_matching_repositories_the_caller_may_see(personas, api, registry, app):
    registry(personas.beta_user).push_image("acme/beta/secret", "1")
    registry(personas.org_registry_admin).push_image("acme/web", "1")
    response = search(api(personas.alpha_registry_read), "/v2/search/org/acme/resources/CONTAINER", "acme/*")
    assert response.status_code == 200
    body = response.json()
    assert body["results"][0]["groupValue"] == "CONTAINER"
    resources = {r["resourceId"]: r for r in body["results"][0]["resources"]}
    assert set(resources) == {"acme/alpha/app"}  # not beta's, and acme/web needs an org-level role
    hit = resources["acme/alpha/app"]
    assert hit["teamName"] == "alpha" and DATE.match(hit["dateModified"])
    assert {"key": "latestTag", "value": "1.0"} in hit["attributes"]
    admin = search(api(personas.owner), "/v2/search/org/acme/resources/CONTAINER", "acme/*").json()
    assert {r["resourceId"] for r in admin["results"][0]["resources"]} == {"acme/alpha/app", "acme/beta/secret", "acme/web"}
    team = search(api(personas.owner), "/v2/search/org/acme/team/alpha/resources/CONTAINER", "acme/alpha/a?p").json()
    assert [r["resourceId"] for r in team["results"][0]["resources"]] == ["acme/alpha/app"]
    none = search(api(personas.owner), "/v2/search/org/acme/resources/CONTAINER", "acme/zzz*").json()
    assert none["results"] == [] and none["resultTotal"] == 0


def test_search_pages(personas, api, registry):
    for name in ("a1", "a2", "a3"):
        services.repository_create(actor=personas.org_registry_admin, space=personas.acme_space, path=name)
    client = api(personas.org_registry_read)
    body = search(client, "/v2/search/org/acme/resources/CONTAINER", "acme/a*", page=1, pageSize=2).json()
    assert body["resultTotal"] == 3 and body["resultPageTotal"] == 2
    assert [r["resourceId"] for r in body["results"][0]["resources"]] == ["acme/a3"]


@pytest.mark.parametrize("kind", ["MODEL", "RECIPE", "HELM_CHART", "CONTAINER", "COLLECTION"])
def test_catalog_searches_answer_empty_results_for_every_kind(personas, api, kind):
    client = api(personas.alpha_registry_read)
    for path in (f"/v2/search/catalog/resources/{kind}", f"/v2/search/subscriber/catalog/resources/{kind}"):
        response = search(client, path, "*")
        assert response.status_code == 200 and response.json()["results"] == []
    org = search(client, f"/v2/search/org/acme/resources/{kind}", "acme/*")
    assert org.status_code == 200


def test_search_refuses_bad_input_and_other_orgs(personas, api):
    client = api(personas.alpha_registry_read)
    assert client.get("/v2/search/org/acme/resources/CONTAINER", {"q": "{not json"}).status_code == 400
    assert search(client, "/v2/search/org/globex/resources/CONTAINER", "globex/*").status_code == 404


# --- no N+1 -------------------------------------------------------------------------------------


def _queries(callable_) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = callable_()
    assert response.status_code == 200, response.content
    return len(captured)


def test_query_counts_stay_flat_as_repositories_and_tags_grow(personas, api, registry):
    pusher = registry(personas.alpha_registry_admin)
    client = api(personas.alpha_registry_read)
    owner = api(personas.owner)

    def measure():
        return (
            _queries(lambda: client.get(ALPHA)),
            _queries(lambda: client.get(f"{ALPHA}/r0")),
            _queries(lambda: client.get(f"{ALPHA}/r0/images")),
            _queries(lambda: search(owner, "/v2/search/org/acme/resources/CONTAINER", "acme/*")),
        )

    pusher.push_image("acme/alpha/r0", "t0")
    measure()  # warms the per-user permission cache that force_authenticate's user object keeps
    small = measure()
    for index in range(1, 4):
        pusher.push_image(f"acme/alpha/r{index}", "t0", layer=f"layer-{index}".encode())
        pusher.push_image("acme/alpha/r0", f"t{index}", layer=f"tag-{index}".encode())
    assert measure() == small
