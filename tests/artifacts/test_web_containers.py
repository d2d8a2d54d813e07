"""The portal's container pages: list, repository Overview and Tags, delete with confirmation;
who sees what, and who is refused (CONVENTIONS 17). Images are pushed through the registry protocol."""
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from artifacts.models import Repository, Tag
from tests.support.oci import OCI_INDEX, OCI_MANIFEST, Registry, image_manifest, sha256
from tests.support.web import client_for, onboard

HOST = "registry.test"  # settings.SITE_URL of the conftest, not the host the test client sends


@pytest.fixture
def cast(personas):
    onboard(*personas.users.values())
    return personas


def push_multiarch(registry: Registry, name: str, tag: str) -> str:
    """Push a linux/amd64 + linux/arm64/v8 index under `tag`; return the index digest."""
    descriptors = []
    for arch, variant in (("amd64", ""), ("arm64", "v8")):
        config = json.dumps({"architecture": arch, "os": "linux", **({"variant": variant} if variant else {})}).encode()
        config_digest = registry.push_blob(name, config)
        layer = f"layer for {arch}".encode()
        layer_digest = registry.push_blob(name, layer)
        _, body = _push_by_digest(registry, name, image_manifest(config_digest, len(config), [(layer_digest, len(layer))]))
        platform = {"os": "linux", "architecture": arch, **({"variant": variant} if variant else {})}
        descriptors.append({"mediaType": OCI_MANIFEST, "digest": sha256(body), "size": len(body), "platform": platform})
    response, body = registry.push_manifest(name, tag, {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors}, OCI_INDEX)
    assert response.status_code == 201, response.content
    return sha256(body)


def _push_by_digest(registry: Registry, name: str, document: dict):
    body = json.dumps(document).encode()
    response = registry.request("PUT", f"/v2/{name}/manifests/{sha256(body)}", body, content_type=OCI_MANIFEST)
    assert response.status_code == 201, response.content
    return response, body


@pytest.fixture
def alpha_repo(cast, client):
    """acme/alpha/app, pushed by the owner: tag 1.0 (single image) and tag multi (amd64 + arm64/v8)."""
    registry = Registry(client, cast.owner)
    registry.push_image("acme/alpha/app", "1.0", layer=b"x" * 1000)
    push_multiarch(registry, "acme/alpha/app", "multi")
    return Repository.objects.get(name="acme/alpha/app")


def detail_url(name: str) -> str:
    return reverse("artifacts:container", args=[name])


# --- the list -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_list_shows_the_spaces_repositories_with_latest_tag_size_and_access(cast, alpha_repo):
    page = client_for(cast.alpha_registry_read, cast.alpha_space).get(reverse("artifacts:containers"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "acme/alpha/app" in html and detail_url("acme/alpha/app") in html
    assert "<code>multi</code>" in html  # pushed last, so the latest tag
    assert "Private · locked" in html
    assert 'aria-current="page">Containers' in html


@pytest.mark.django_db
def test_the_list_shows_only_the_current_spaces_repositories(cast, alpha_repo, client):
    Registry(client, cast.owner).push_image("acme/orgwide", "1")
    org_page = client_for(cast.owner, cast.acme_space).get(reverse("artifacts:containers")).content.decode()
    assert "acme/orgwide" in org_page and "acme/alpha/app" not in org_page
    beta_page = client_for(cast.beta_user, cast.beta_space).get(reverse("artifacts:containers")).content.decode()
    assert "acme/alpha/app" not in beta_page and "No containers in acme/beta yet" in beta_page


@pytest.mark.django_db
def test_an_empty_space_tells_a_pusher_how_to_push(cast):
    html = client_for(cast.beta_user, cast.beta_space).get(reverse("artifacts:containers")).content.decode()
    assert f"docker login {HOST}" in html
    assert "$oauthtoken" in html and "API key" in html
    assert f"docker tag my-image:latest {HOST}/acme/beta/my-image:1.0" in html
    assert f"docker push {HOST}/acme/beta/my-image:1.0" in html


@pytest.mark.django_db
def test_docker_commands_name_the_site_urls_host_not_the_host_the_page_was_asked_on(cast, settings):
    settings.SITE_URL = "http://registry.example:8080"
    html = client_for(cast.beta_user, cast.beta_space).get(reverse("artifacts:containers"), HTTP_HOST="127.0.0.1").content.decode()
    assert "docker push registry.example:8080/acme/beta/my-image:1.0" in html and "127.0.0.1/" not in html
    key_page = client_for(cast.beta_user, cast.beta_space).get(reverse("accounts:api-key"), HTTP_HOST="127.0.0.1").content.decode()
    assert "docker login registry.example:8080" in key_page and "NGC_CLI_API_URL=http://registry.example:8080" in key_page


@pytest.mark.django_db
def test_the_list_offers_create_container_to_those_who_may_push_only(cast):
    create = reverse("registry:container-create")
    assert f'href="{create}"' in client_for(cast.alpha_registry_user, cast.alpha_space).get(reverse("artifacts:containers")).content.decode()
    assert f'href="{create}"' not in client_for(cast.alpha_registry_read, cast.alpha_space).get(reverse("artifacts:containers")).content.decode()


def verdict(digest: str, host, status: str) -> None:
    from artifacts.gpu.models import GpuVerdict
    from artifacts.models import Manifest

    GpuVerdict.objects.update_or_create(manifest=Manifest.objects.get(digest=digest), host=host, defaults={"status": status})


@pytest.mark.django_db
def test_a_gpu_host_filter_is_a_removable_chip_with_its_own_empty_state_and_explains_unknown(cast, client):
    from artifacts.gpu import services as gpu_services

    registry = Registry(client, cast.owner)
    good, _ = registry.push_image("acme/alpha/good", "1", layer=b"good")
    vague, _ = registry.push_image("acme/alpha/vague", "1", layer=b"vague")
    a100 = gpu_services.host_create(actor=cast.owner, org=cast.acme, name="a100", architecture="amd64")
    spare = gpu_services.host_create(actor=cast.owner, org=cast.acme, name="spare", architecture="amd64")
    verdict(good, a100, "compatible")
    verdict(vague, a100, "unknown")
    verdict(good, spare, "unknown")
    verdict(vague, spare, "incompatible")
    web = client_for(cast.alpha_registry_read, cast.alpha_space)

    page = web.get(reverse("artifacts:containers"), {"runs_on": "a100", "q": "g"}).content.decode()
    assert "acme/alpha/good" in page and "acme/alpha/vague" not in page
    assert 'data-testid="active-filters"' in page and "Runs on GPU host <strong>a100</strong>" in page
    assert f'href="{reverse("artifacts:containers")}?q=g" aria-label="Remove the filter runs on a100"' in page
    assert "1 container has an" in page and "NVIDIA_REQUIRE_CUDA" in page

    empty = web.get(reverse("artifacts:containers"), {"runs_on": "spare"}).content.decode()
    assert "are known to run on spare" in empty and "No containers in acme/alpha yet" not in empty
    assert "docker push" not in empty and "1 container has an" in empty
    nowhere = web.get(reverse("artifacts:containers"), {"runs_on": "nosuch"}).content.decode()
    assert "has no GPU host named <code>nosuch</code>" in nowhere


@pytest.mark.django_db
def test_search_filters_by_name_or_display_name_and_says_when_nothing_matches(cast, client):
    registry = Registry(client, cast.owner)
    for name in ("acme/alpha/vision", "acme/alpha/speech"):
        registry.push_image(name, "1")
    web = client_for(cast.owner, cast.alpha_space)
    html = web.get(reverse("artifacts:containers"), {"q": "visi"}).content.decode()
    assert "acme/alpha/vision" in html and "acme/alpha/speech" not in html
    assert "No containers match" in web.get(reverse("artifacts:containers"), {"q": "nothing"}).content.decode()
    # The space's own path is not a match for everything, and display names are searched too.
    assert "No containers match" in web.get(reverse("artifacts:containers"), {"q": "alpha"}).content.decode()
    Repository.objects.filter(name="acme/alpha/speech").update(display_name="Speech Recognizer")
    html = web.get(reverse("artifacts:containers"), {"q": "recog"}).content.decode()
    assert "acme/alpha/speech" in html and "acme/alpha/vision" not in html


@pytest.mark.django_db
def test_the_list_is_paginated(cast, client, monkeypatch):
    monkeypatch.setattr("artifacts.pages.PAGE_SIZE", 2)
    registry = Registry(client, cast.owner)
    for index in range(3):
        registry.push_image(f"acme/alpha/r{index}", "1", layer=f"l{index}".encode())
    web = client_for(cast.owner, cast.alpha_space)
    first = web.get(reverse("artifacts:containers")).content.decode()
    assert "acme/alpha/r0" in first and "acme/alpha/r2" not in first and "Page 1 of 2" in first
    second = web.get(reverse("artifacts:containers"), {"page": 2}).content.decode()
    assert "acme/alpha/r2" in second and "acme/alpha/r0" not in second


@pytest.mark.django_db
def test_the_list_costs_the_same_queries_for_3_and_for_12_repositories(cast, client):
    registry = Registry(client, cast.owner)
    web = client_for(cast.owner, cast.alpha_space)

    def queries_with(count: int) -> int:
        for index in range(Repository.objects.count(), count):
            registry.push_image(f"acme/alpha/n{index}", "1", layer=f"layer-{index}".encode())
            registry.push_image(f"acme/alpha/n{index}", "2", layer=f"layer-{index}-2".encode())
        with CaptureQueriesContext(connection) as captured:
            assert web.get(reverse("artifacts:containers")).status_code == 200
        return len(captured)

    assert queries_with(3) == queries_with(12)


@pytest.mark.django_db
def test_the_tags_tab_costs_the_same_queries_for_2_and_for_8_tags(cast, client):
    registry = Registry(client, cast.owner)
    web = client_for(cast.owner, cast.alpha_space)
    url = reverse("artifacts:container-tags", args=["acme/alpha/many"])

    def queries_with(count: int) -> int:
        for index in range(Tag.objects.filter(repository__name="acme/alpha/many").count(), count):
            registry.push_image("acme/alpha/many", f"v{index}", layer=f"layer-{index}".encode())
        web.get(url)  # platforms are read once per digest, then cached
        with CaptureQueriesContext(connection) as captured:
            assert web.get(url).status_code == 200
        return len(captured)

    assert queries_with(2) == queries_with(8)


# --- who may see a repository -----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["beta_user", "outsider"])
def test_other_teams_and_other_orgs_get_404_for_a_team_repository(cast, alpha_repo, persona):
    user = getattr(cast, persona)
    space = cast.beta_space if persona == "beta_user" else cast.globex_space
    web = client_for(user, space)
    for url in (
        detail_url("acme/alpha/app"), reverse("artifacts:container-tags", args=["acme/alpha/app"]),
        reverse("artifacts:container-delete", args=["acme/alpha/app"]),
        reverse("artifacts:container-tag-delete", args=["acme/alpha/app", "1.0"]),
    ):
        assert web.get(url).status_code == 404, url
        assert web.post(url).status_code == 404, url
    # Existing or not, the answer is the same page.
    assert "Container &#x27;acme/alpha/app&#x27; not found." in web.get(detail_url("acme/alpha/app")).content.decode()
    assert "Container &#x27;acme/alpha/missing&#x27; not found." in web.get(detail_url("acme/alpha/missing")).content.decode()
    assert Tag.objects.filter(repository=alpha_repo).count() == 2


@pytest.mark.django_db
def test_a_public_repository_is_readable_by_a_signed_in_outsider_without_actions(cast, alpha_repo):
    Repository.objects.filter(pk=alpha_repo.pk).update(is_public=True)
    html = client_for(cast.outsider, cast.globex_space).get(detail_url("acme/alpha/app")).content.decode()
    assert "Public · unlocked" in html and "Delete Repository" not in html


@pytest.mark.django_db
def test_a_reader_sees_no_edit_or_delete_buttons_and_is_refused_with_nothing_changed(cast, alpha_repo):
    web = client_for(cast.alpha_registry_read, cast.alpha_space)
    for url in (detail_url("acme/alpha/app"), reverse("artifacts:container-tags", args=["acme/alpha/app"])):
        html = web.get(url).content.decode()
        assert "Edit Details" not in html and "Delete" not in html
    assert web.post(reverse("artifacts:container-delete", args=["acme/alpha/app"])).status_code == 403
    assert web.post(reverse("artifacts:container-tag-delete", args=["acme/alpha/app", "1.0"])).status_code == 403
    assert web.get(reverse("artifacts:container-delete", args=["acme/alpha/app"])).status_code == 403
    assert Repository.objects.filter(name="acme/alpha/app").exists()
    assert Tag.objects.filter(repository=alpha_repo).count() == 2


@pytest.mark.django_db
def test_a_registry_user_may_delete_only_what_they_created(cast, alpha_repo, client):
    web = client_for(cast.alpha_registry_user, cast.alpha_space)
    assert "Delete Repository" not in web.get(detail_url("acme/alpha/app")).content.decode()
    assert web.post(reverse("artifacts:container-delete", args=["acme/alpha/app"])).status_code == 403
    Registry(client, cast.alpha_registry_user).push_image("acme/alpha/mine", "1")
    assert "Delete Repository" in web.get(detail_url("acme/alpha/mine")).content.decode()


# --- the repository page ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_tags_tab_lists_digest_size_platforms_and_the_pull_command(cast, alpha_repo):
    html = client_for(cast.alpha_registry_read, cast.alpha_space).get(
        reverse("artifacts:container-tags", args=["acme/alpha/app"])
    ).content.decode()
    multi = Tag.objects.get(repository=alpha_repo, name="multi")
    assert multi.manifest.digest in html
    assert "linux/amd64" in html and "linux/arm64/v8" in html
    assert f"docker pull {HOST}/acme/alpha/app:multi" in html
    assert f"docker pull {HOST}/acme/alpha/app:1.0" in html
    assert 'data-copy="#pull-1"' in html and 'id="pull-1"' in html
    assert "1.0\xa0KB" in html or "1.0 KB" in html  # 1000-byte layer + config


@pytest.mark.django_db
def test_the_overview_shows_the_latest_tag_with_its_platforms(cast, alpha_repo):
    html = client_for(cast.owner, cast.alpha_space).get(detail_url("acme/alpha/app")).content.decode()
    assert f"docker pull {HOST}/acme/alpha/app:multi" in html
    assert "linux/arm64/v8" in html
    assert "Delete Repository" in html


# --- deleting -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_deleting_a_tag_asks_first_then_removes_only_that_tag(cast, alpha_repo, client):
    web = client_for(cast.owner, cast.alpha_space)
    url = reverse("artifacts:container-tag-delete", args=["acme/alpha/app", "1.0"])
    confirm = web.get(url).content.decode()
    assert "acme/alpha/app:1.0" in confirm and "Delete tag" in confirm
    assert Tag.objects.filter(repository=alpha_repo, name="1.0").exists()
    response = web.post(url)
    assert response.status_code == 302 and response.url == reverse("artifacts:container-tags", args=["acme/alpha/app"])
    assert list(Tag.objects.filter(repository=alpha_repo).values_list("name", flat=True)) == ["multi"]
    registry = Registry(client, cast.owner)
    assert registry.request("GET", "/v2/acme/alpha/app/manifests/1.0").status_code == 404
    assert registry.request("GET", "/v2/acme/alpha/app/manifests/multi").status_code == 200
    assert web.post(url).status_code == 404


@pytest.mark.django_db
def test_deleting_a_repository_asks_first_then_the_registry_no_longer_serves_it(cast, alpha_repo, client):
    web = client_for(cast.owner, cast.alpha_space)
    url = reverse("artifacts:container-delete", args=["acme/alpha/app"])
    confirm = web.get(url).content.decode()
    assert "acme/alpha/app:1.0" in confirm and "acme/alpha/app:multi" in confirm and "cannot be undone" in confirm
    assert Repository.objects.filter(name="acme/alpha/app").exists()
    response = web.post(url)
    assert response.status_code == 302 and response.url == reverse("artifacts:containers")
    assert not Repository.objects.filter(name="acme/alpha/app").exists()
    registry = Registry(client, cast.owner)
    assert registry.request("GET", "/v2/acme/alpha/app/manifests/multi").status_code == 404
    assert registry.request("GET", "/v2/acme/alpha/app/tags/list").status_code == 404
    assert web.get(detail_url("acme/alpha/app")).status_code == 404


# --- Edit Details -------------------------------------------------------------------------------------


def edit_url(name: str) -> str:
    return reverse("artifacts:container-edit", args=[name])


DETAILS = {
    "display_name": "Vision App", "description": "Detects things.", "overview": "# Usage\n\nRun **it**.",
    "labels": "Machine Learning, Retail ,", "logo": "https://example.test/logo.png", "publisher": "Acme",
    "built_by": "Kristina",
}


@pytest.mark.django_db
def test_edit_details_saves_the_metadata_and_the_page_shows_it(cast, alpha_repo):
    web = client_for(cast.owner, cast.alpha_space)
    form = web.get(edit_url("acme/alpha/app")).content.decode()
    assert 'name="display_name"' in form and 'name="is_public"' in form
    response = web.post(edit_url("acme/alpha/app"), {**DETAILS, "is_public": "on"})
    assert response.status_code == 302 and response.url == detail_url("acme/alpha/app")
    alpha_repo.refresh_from_db()
    assert alpha_repo.display_name == "Vision App" and alpha_repo.labels == ["Machine Learning", "Retail"]
    assert alpha_repo.is_public and alpha_repo.built_by == "Kristina"
    html = web.get(detail_url("acme/alpha/app")).content.decode()
    for text in ("<h1>Vision App</h1>", "Detects things.", "<h1>Usage</h1>", "<strong>it</strong>", "Machine Learning",
                 'src="https://example.test/logo.png"', "Acme", "Kristina", "Public · unlocked"):
        assert text in html, text
    listing = web.get(reverse("artifacts:containers")).content.decode()
    assert "Vision App" in listing


@pytest.mark.django_db
def test_a_registry_user_may_edit_but_not_unlock_a_repository_they_did_not_create(cast, alpha_repo):
    web = client_for(cast.alpha_registry_user, cast.alpha_space)
    assert "Edit Details" in web.get(detail_url("acme/alpha/app")).content.decode()
    form = web.get(edit_url("acme/alpha/app")).content.decode()
    assert 'name="is_public"' not in form
    assert web.post(edit_url("acme/alpha/app"), {**DETAILS, "is_public": "on"}).status_code == 302
    alpha_repo.refresh_from_db()
    assert alpha_repo.display_name == "Vision App" and not alpha_repo.is_public


@pytest.mark.django_db
def test_the_services_refusal_is_shown_in_the_form_and_nothing_is_saved(cast, alpha_repo):
    web = client_for(cast.owner, cast.alpha_space)
    response = web.post(edit_url("acme/alpha/app"), {**DETAILS, "labels": "ok, " + "x" * 101})
    assert response.status_code == 200
    assert "at most 100 characters" in response.content.decode()
    alpha_repo.refresh_from_db()
    assert alpha_repo.display_name == "" and alpha_repo.labels == []
    response = web.post(edit_url("acme/alpha/app"), {**DETAILS, "logo": "javascript:alert(1)"})
    assert response.status_code == 200 and 'class="error"' in response.content.decode()
    alpha_repo.refresh_from_db()
    assert alpha_repo.logo == ""


@pytest.mark.django_db
def test_a_reader_cannot_open_or_post_edit_details(cast, alpha_repo):
    web = client_for(cast.alpha_registry_read, cast.alpha_space)
    assert web.get(edit_url("acme/alpha/app")).status_code == 403
    assert web.post(edit_url("acme/alpha/app"), DETAILS).status_code == 403
    alpha_repo.refresh_from_db()
    assert alpha_repo.display_name == ""
    for persona, space in (("beta_user", cast.beta_space), ("outsider", cast.globex_space)):
        assert client_for(getattr(cast, persona), space).post(edit_url("acme/alpha/app"), DETAILS).status_code == 404


@pytest.mark.django_db
def test_an_overview_with_a_script_is_rendered_without_it(cast, alpha_repo):
    web = client_for(cast.owner, cast.alpha_space)
    overview = "Hello <script>alert('x')</script> <img src=x onerror=alert(1)> [link](javascript:alert(2))\n\n**bold**"
    assert web.post(edit_url("acme/alpha/app"), {**DETAILS, "overview": overview}).status_code == 302
    html = web.get(detail_url("acme/alpha/app")).content.decode()
    section = html[html.index('aria-label="Overview"'):]
    assert "<strong>bold</strong>" in section
    assert "<script>alert" not in html and "onerror" not in section and "javascript:" not in section
