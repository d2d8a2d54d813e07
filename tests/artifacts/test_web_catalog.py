"""The Private Registry catalog, the Entity Creation Hub, the container record form and the upload
page's server side, through Django's test client: visibility per persona (another team's items
are absent), filters, sorting, search, the table/cards toggle, bounded queries, and who may upload."""
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from artifacts import services as container_services
from artifacts.versioned import services as versioned_services
from artifacts.versioned.models import ArtifactKind, VersionedArtifact
from helmrepo import services as chart_services
from tests.support.web import client_for, onboard

CATALOG = "/registry/catalog"


def names_on(response) -> list[str]:
    """The resource ids the page lists, in order."""
    return re.findall(r'<code class="[^"]*resource-id">([^<]+)</code>', response.content.decode())


@pytest.fixture
def stocked(personas):
    owner = personas.owner
    onboard(*personas.users.values())
    acme, alpha, beta = personas.acme_space, personas.alpha_space, personas.beta_space
    container_services.repository_create(actor=owner, space=acme, path="org-app", description="An org container", labels=["Serving"])
    container_services.repository_create(actor=owner, space=alpha, path="alpha-app", description="Alpha container")
    container_services.repository_create(actor=owner, space=beta, path="beta-secret-app", description="Beta only")
    versioned_services.artifact_create(
        actor=owner, space=acme, kind=ArtifactKind.MODEL, name="detector", short_description="Finds cats",
        application="Object Detection", framework="PyTorch", labels=["vision"],
    )
    versioned_services.artifact_create(
        actor=owner, space=alpha, kind=ArtifactKind.MODEL, name="alpha-bert", short_description="Language model",
        application="Natural Language Processing", framework="TensorFlow",
    )
    versioned_services.artifact_create(actor=owner, space=beta, kind=ArtifactKind.MODEL, name="beta-secret-model")
    versioned_services.artifact_create(
        actor=owner, space=alpha, kind=ArtifactKind.RESOURCE, name="alpha-notebooks", short_description="Jupyter notebooks",
    )
    chart_services.chart_create(actor=owner, space=acme, name="org-chart", short_description="Deploys the detector")
    chart_services.chart_create(actor=owner, space=beta, name="beta-secret-chart", short_description="Beta chart")
    return personas


def test_the_owner_sees_every_kind_in_the_org_and_its_teams(stocked):
    response = client_for(stocked.owner, stocked.acme_space).get(CATALOG)
    assert response.status_code == 200
    listed = names_on(response)
    for resource_id in ("acme/org-app", "acme/alpha/alpha-app", "acme/detector", "acme/alpha/alpha-bert",
                        "acme/alpha/alpha-notebooks", "acme/org-chart", "acme/beta/beta-secret-chart"):
        assert resource_id in listed
    assert listed == sorted(listed, key=lambda rid: rid.rsplit("/", 1)[1])  # by name
    body = response.content.decode()
    assert reverse("artifacts:container", args=["acme/org-app"]) in body
    assert reverse("helmcharts:chart", args=["acme/org-chart"]) in body


def test_an_alpha_member_never_sees_the_other_teams_items(stocked):
    for who, space in (("alpha_registry_read", "acme_space"), ("alpha_registry_user", "alpha_space")):
        response = client_for(stocked.users[who], getattr(stocked, space)).get(CATALOG)
        listed = names_on(response)
        assert not any("beta" in rid for rid in listed), (who, listed)
        assert "acme/alpha/alpha-bert" in listed
        assert "acme/alpha/alpha-notebooks" in listed
    # In the org space an alpha-only member sees the alpha team's items, none of the org's own.
    listed = names_on(client_for(stocked.alpha_registry_read, stocked.acme_space).get(CATALOG))
    assert "acme/detector" not in listed and "acme/org-app" not in listed


def test_the_other_org_sees_nothing_of_acme_and_is_told_what_to_do(stocked):
    response = client_for(stocked.outsider, stocked.globex_space).get(CATALOG)
    assert names_on(response) == []
    body = response.content.decode()
    assert 'data-testid="catalog-empty"' in body and "Entity Creation Hub" in body


def test_search_matches_name_label_and_description(stocked):
    client = client_for(stocked.owner, stocked.acme_space)
    assert names_on(client.get(CATALOG, {"q": "DETECT"})) == ["acme/detector", "acme/org-chart"]  # name, description
    assert names_on(client.get(CATALOG, {"q": "vision"})) == ["acme/detector"]  # label
    assert names_on(client.get(CATALOG, {"q": "serving"})) == ["acme/org-app"]  # container label
    assert names_on(client.get(CATALOG, {"q": "jupyter"})) == ["acme/alpha/alpha-notebooks"]
    empty = client.get(CATALOG, {"q": "no-such-thing"}).content.decode()
    assert "Nothing matches these filters." in empty and "clear the filters" in empty


def test_filters_by_kind_space_application_framework(stocked):
    client = client_for(stocked.owner, stocked.acme_space)
    assert names_on(client.get(CATALOG, {"kind": "helm-chart"})) == ["acme/beta/beta-secret-chart", "acme/org-chart"]
    assert names_on(client.get(CATALOG, {"kind": "resource"})) == ["acme/alpha/alpha-notebooks"]
    assert set(names_on(client.get(CATALOG, {"space": "org"}))) == {"acme/org-app", "acme/detector", "acme/org-chart"}
    assert set(names_on(client.get(CATALOG, {"space": "alpha"}))) == {
        "acme/alpha/alpha-app", "acme/alpha/alpha-bert", "acme/alpha/alpha-notebooks",
    }
    assert names_on(client.get(CATALOG, {"application": "Object Detection"})) == ["acme/detector"]
    assert names_on(client.get(CATALOG, {"framework": "TensorFlow"})) == ["acme/alpha/alpha-bert"]
    assert names_on(client.get(CATALOG, {"framework": "TensorFlow", "kind": "container"})) == []


def test_sorting_by_last_modified_and_the_view_toggle_kept_in_links(stocked):
    client = client_for(stocked.owner, stocked.acme_space)
    detector = VersionedArtifact.objects.get(name="detector")
    versioned_services.artifact_update(actor=stocked.owner, artifact=detector, short_description="Finds cats and dogs")
    newest = names_on(client.get(CATALOG, {"sort": "-modified"}))
    assert newest[0] == "acme/detector"
    assert names_on(client.get(CATALOG, {"sort": "modified"}))[-1] == "acme/detector"
    assert names_on(client.get(CATALOG, {"sort": "-name"}))[0] == "acme/org-chart"
    table = client.get(CATALOG, {"view": "table", "kind": "model"}).content.decode()
    assert 'data-testid="catalog-table"' in table and 'data-testid="catalog-cards"' not in table
    assert "kind=model&amp;view=cards" in table  # the toggle keeps the filters
    assert 'data-testid="catalog-cards"' in client.get(CATALOG).content.decode()


def test_pagination_keeps_the_query(stocked):
    for number in range(30):
        container_services.repository_create(actor=stocked.owner, space=stocked.acme_space, path=f"bulk-{number:02d}")
    client = client_for(stocked.owner, stocked.acme_space)
    first = client.get(CATALOG, {"q": "bulk", "view": "table"})
    assert len(names_on(first)) == 24
    assert "q=bulk&amp;view=table&amp;page=2" in first.content.decode()
    second = client.get(CATALOG, {"q": "bulk", "view": "table", "page": 2})
    assert names_on(second) == [f"acme/bulk-{n:02d}" for n in range(24, 30)]


def _catalog_queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(CATALOG, {"view": "table"}).status_code == 200
    return len(captured)


def test_queries_do_not_grow_with_the_items(personas):
    onboard(personas.owner)
    client = client_for(personas.owner, personas.acme_space)

    def stock(count, start):
        for number in range(start, start + count):
            space = personas.alpha_space if number % 2 else personas.acme_space
            container_services.repository_create(actor=personas.owner, space=space, path=f"c{number:03d}")
            versioned_services.artifact_create(actor=personas.owner, space=space, kind=ArtifactKind.MODEL, name=f"m{number:03d}")
            versioned_services.artifact_create(actor=personas.owner, space=space, kind=ArtifactKind.RESOURCE, name=f"r{number:03d}")
            chart_services.chart_create(actor=personas.owner, space=space, name=f"h{number:03d}", short_description="chart")

    stock(3, 0)  # 12 items
    _catalog_queries(client)  # warm caches
    few = _catalog_queries(client)
    stock(50, 3)  # 212 items
    many = _catalog_queries(client)
    assert few == many


def test_the_hub_links_to_the_forms_and_hides_them_from_readers(stocked):
    body = client_for(stocked.owner, stocked.acme_space).get("/hub/").content.decode()
    for title in ("Create Model", "Create Resource", "Create Helm Chart", "Create Container"):
        assert title in body
    assert reverse("registry:container-create") in body and reverse("helmcharts:chart-create") in body
    assert "not available yet" not in body
    reader = client_for(stocked.org_registry_read, stocked.acme_space).get("/hub/").content.decode()
    assert reverse("registry:container-create") not in reader and reverse("helmcharts:chart-create") not in reader
    assert "You need the Registry User or Registry Admin role" in reader


def test_the_container_record_form(stocked):
    client = client_for(stocked.owner, stocked.alpha_space)
    response = client.post(reverse("registry:container-create"), {"path": "fresh-app", "description": "New", "labels": "a, b"})
    assert response.status_code == 302
    assert response["Location"] == reverse("artifacts:container", args=["acme/alpha/fresh-app"])
    again = client.post(reverse("registry:container-create"), {"path": "fresh-app"})
    assert "already exists" in again.content.decode()
    bad = client.post(reverse("registry:container-create"), {"path": "Bad Name"})
    assert bad.status_code == 200 and "lower-case" in bad.content.decode()
    reader = client_for(stocked.alpha_registry_read, stocked.alpha_space)
    assert reader.post(reverse("registry:container-create"), {"path": "nope"}).status_code == 403


def test_the_upload_page_shows_the_control_only_to_writers(stocked):
    url = reverse("registry:model-upload", args=["acme/alpha/alpha-bert"])
    writer = client_for(stocked.alpha_registry_user, stocked.alpha_space).get(url).content.decode()
    assert 'id="upload-form"' in writer and "webkitdirectory" in writer and "js/upload.js" in writer
    assert 'data-part-size="8388608"' in writer and 'data-max-tables="3"' in writer and 'data-max-attributes="12"' in writer
    reader = client_for(stocked.alpha_registry_read, stocked.alpha_space)
    page = reader.get(url)
    assert page.status_code == 200
    assert 'id="upload-form"' not in page.content.decode() and 'data-testid="read-only"' in page.content.decode()
    assert reader.post(url).status_code == 403
    # Another team's member does not learn that the model exists.
    assert client_for(stocked.beta_user, stocked.beta_space).get(url).status_code == 404
    assert client_for(stocked.owner).get(reverse("registry:resource-upload", args=["acme/alpha/alpha-notebooks"])).status_code == 200


def test_the_api_behind_the_page_refuses_readers_and_a_fourth_metrics_table(stocked):
    path = "/v2/org/acme/team/alpha/models/alpha-bert/versions"
    reader = client_for(stocked.alpha_registry_read, stocked.alpha_space)
    assert reader.post(path, {"versionId": "1.0"}, content_type="application/json").status_code == 403
    writer = client_for(stocked.alpha_registry_user, stocked.alpha_space)
    tables = [{"name": f"t{n}", "attributes": [{"key": "k", "value": "v"}]} for n in range(4)]
    refused = writer.post(path, {"versionId": "1.0", "customMetrics": tables}, content_type="application/json")
    assert refused.status_code == 400
    too_wide = [{"name": "t", "attributes": [{"key": f"k{n}", "value": "v"} for n in range(13)]}]
    assert writer.post(path, {"versionId": "1.0", "customMetrics": too_wide}, content_type="application/json").status_code == 400
    assert writer.post(path, {"versionId": "1.0", "customMetrics": tables[:3]}, content_type="application/json").status_code == 200
