"""The portal's Helm chart pages (guide 6.3): chart cards, Overview with the fetch command,
Versions, File Browser (text shown escaped), Edit Details, deletes with confirmation; who sees
what, and who is refused (CONVENTIONS 17). Versions are pushed through helmrepo.services."""
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from helmrepo import services
from helmrepo.models import Chart, ChartVersion
from tests.helmrepo import charts
from tests.support.web import client_for, onboard

pytestmark = pytest.mark.django_db
HOST = "registry.test"  # settings.SITE_URL of the conftest, not the host the test client sends
EVIL_VALUES = b"replicaCount: 1\n# <script>alert('values')</script>\nnote: \"<b>bold</b>\"\n"


@pytest.fixture
def cast(personas):
    onboard(*personas.users.values())
    return personas


def push(user, space, name: str, version: str, **kwargs) -> ChartVersion:
    return services.chart_version_push(actor=user, space=space, chunks=[charts.package(name, version, **kwargs)])


def evil_package(name: str, version: str) -> bytes:
    return charts.tar_gz([
        charts.file_member(f"{name}/Chart.yaml", charts.chart_yaml(name, version)),
        charts.file_member(f"{name}/values.yaml", EVIL_VALUES),
        charts.file_member(f"{name}/templates/_helpers.tpl", b"{{- define \"x\" -}}<img src=x onerror=alert(1)>{{- end }}\n"),
        charts.file_member(f"{name}/files/logo.png", b"\x89PNG\r\n\x1a\n\x00\x00binary"),
    ])


@pytest.fixture
def demo(cast):
    """acme/alpha/demo, created by the team's registry user: versions 0.1.0 and 1.0.0 (with a
    values.yaml that carries markup)."""
    chart = services.chart_create(
        actor=cast.alpha_registry_user, space=cast.alpha_space, name="demo", short_description="Doc testing chart",
        overview="## Usage\n\nInstall it.\n\n<script>alert(1)</script>",
    )
    push(cast.alpha_registry_user, cast.alpha_space, "demo", "0.1.0")
    services.chart_version_push(actor=cast.alpha_registry_user, space=cast.alpha_space, chunks=[evil_package("demo", "1.0.0")])
    chart.refresh_from_db()
    return chart


def url(name: str, ref: str = "acme/alpha/demo", *args) -> str:
    return reverse(f"helmcharts:{name}", args=[ref, *args])


# --- the list -------------------------------------------------------------------------------------


def test_the_left_nav_leads_to_the_chart_cards_of_the_current_space(cast, demo):
    web = client_for(cast.alpha_registry_read, cast.alpha_space)
    html = web.get(reverse("accounts:dashboard")).content.decode()
    assert f'href="{reverse("helmcharts:charts")}"' in html
    html = web.get(reverse("helmcharts:charts")).content.decode()
    assert 'aria-current="page">Helm Charts' in html
    assert url("chart") in html and "Doc testing chart" in html and "Latest <strong>1.0.0</strong>" in html


def test_the_list_shows_only_the_current_spaces_charts(cast, demo):
    services.chart_create(actor=cast.owner, space=cast.acme_space, name="orgwide", short_description="Org chart")
    org_page = client_for(cast.owner, cast.acme_space).get(reverse("helmcharts:charts")).content.decode()
    assert "acme/orgwide" in org_page and "acme/alpha/demo" not in org_page
    beta_page = client_for(cast.beta_user, cast.beta_space).get(reverse("helmcharts:charts")).content.decode()
    assert "acme/alpha/demo" not in beta_page and "No Helm charts in acme/beta yet" in beta_page


def test_an_empty_space_explains_helm_repo_add_and_how_to_push(cast):
    html = client_for(cast.beta_user, cast.beta_space).get(reverse("helmcharts:charts")).content.decode()
    assert f"helm repo add acme-beta https://{HOST}/helm/acme/beta --username '$oauthtoken' --password &lt;your API key&gt;" in html
    assert "helm cm-push my-chart-0.1.0.tgz acme-beta" in html
    assert "ngc registry chart push acme/beta/my-chart:0.1.0" in html
    assert f"https://{HOST}/helm/api/acme/beta/charts" in html
    read_only = client_for(cast.alpha_registry_read, cast.alpha_space).get(reverse("helmcharts:charts")).content.decode()
    assert "helm repo add acme-alpha" in read_only and "ngc registry chart push" not in read_only


def test_every_helm_url_follows_the_site_urls_scheme_and_host(cast, settings):
    settings.SITE_URL = "http://registry.example:8080"
    html = client_for(cast.beta_user, cast.beta_space).get(reverse("helmcharts:charts")).content.decode()
    assert "helm repo add acme-beta http://registry.example:8080/helm/acme/beta --username '$oauthtoken'" in html
    assert "-F chart=@my-chart-0.1.0.tgz http://registry.example:8080/helm/api/acme/beta/charts" in html
    assert "https://registry.example" not in html and "https://testserver" not in html


def push_recipes(html: str) -> list[str]:
    """The text of every `#push-commands` block a page shows."""
    return re.findall(r'<code id="push-commands">(.*?)</code>', html, re.S)


def test_the_empty_state_the_create_form_and_a_new_chart_show_the_same_push_recipe(cast):
    client = client_for(cast.alpha_registry_user, cast.alpha_space)
    recipe = (
        "helm plugin install https://github.com/chartmuseum/helm-push\n"
        f"helm repo add acme-alpha https://{HOST}/helm/acme/alpha --username '$oauthtoken' --password &lt;your API key&gt;\n"
        "helm cm-push {} acme-alpha"
    )
    assert push_recipes(client.get(reverse("helmcharts:charts")).content.decode()) == [recipe.format("my-chart-0.1.0.tgz")]
    assert push_recipes(client.get(reverse("helmcharts:chart-create")).content.decode()) == [recipe.format("my-chart-0.1.0.tgz")]
    created = client.post(reverse("helmcharts:chart-create"), create_fields(), follow=True).content.decode()
    assert "Push its first version with the commands below." in created
    assert push_recipes(created) == [recipe.format("web-made-0.1.0.tgz")]
    assert f"curl -u '$oauthtoken:&lt;your API key&gt;' -F chart=@web-made-0.1.0.tgz https://{HOST}/helm/api/acme/alpha/charts" in created


def test_search_filters_by_name_or_display_name(cast, demo):
    services.chart_create(actor=cast.owner, space=cast.alpha_space, name="other", short_description="x", display_name="Speech Stack")
    web = client_for(cast.owner, cast.alpha_space)
    html = web.get(reverse("helmcharts:charts"), {"q": "dem"}).content.decode()
    assert "acme/alpha/demo" in html and "acme/alpha/other" not in html
    assert "acme/alpha/other" in web.get(reverse("helmcharts:charts"), {"q": "speech"}).content.decode()
    assert "No Helm charts match" in web.get(reverse("helmcharts:charts"), {"q": "nothing"}).content.decode()


def test_the_list_costs_the_same_queries_for_2_and_for_8_charts(cast):
    web = client_for(cast.owner, cast.alpha_space)

    def queries_with(count: int) -> int:
        for index in range(Chart.objects.count(), count):
            push(cast.owner, cast.alpha_space, f"c{index}", "0.1.0")
            push(cast.owner, cast.alpha_space, f"c{index}", "0.2.0")
        web.get(reverse("helmcharts:charts"))
        with CaptureQueriesContext(connection) as captured:
            assert web.get(reverse("helmcharts:charts")).status_code == 200
        return len(captured)

    assert queries_with(2) == queries_with(8)


# --- the chart page -------------------------------------------------------------------------------


def test_the_overview_renders_sanitised_markdown_and_the_fetch_command(cast, demo):
    html = client_for(cast.alpha_registry_read, cast.alpha_space).get(url("chart")).content.decode()
    assert "<h2>Usage</h2>" in html and "<script>alert(1)</script>" not in html
    assert '<code id="fetch-latest">helm fetch acme-alpha/demo --version 1.0.0</code>' in html
    assert 'data-copy="#fetch-latest"' in html
    assert f"https://{HOST}/helm/acme/alpha/charts/demo-1.0.0.tgz" in html
    assert f"helm repo add acme-alpha https://{HOST}/helm/acme/alpha" in html


def test_a_chart_version_has_its_own_page_linked_from_the_versions_tab(cast, demo):
    client = client_for(cast.alpha_registry_read, cast.alpha_space)
    page = url("chart-version", "acme/alpha/demo", "0.1.0")
    assert page == "/registry/helm-charts/acme/alpha/demo/-/versions/0.1.0"
    assert f'href="{page}"' in client.get(url("chart-versions")).content.decode()
    html = client.get(page).content.decode()
    assert "Version <code>0.1.0</code>" in html and "demo-0.1.0.tgz" in html and "Chart.yaml" in html
    assert '<code id="fetch-version">helm fetch acme-alpha/demo --version 0.1.0</code>' in html
    assert client.get(url("chart-version", "acme/alpha/demo", "9.9.9")).status_code == 404


def test_the_versions_tab_has_the_guides_columns_highest_first(cast, demo):
    html = client_for(cast.alpha_registry_read, cast.alpha_space).get(url("chart-versions")).content.decode()
    for column in ("Version", "File Count", "File Size", "Created Date"):
        assert f'<th scope="col">{column}</th>' in html
    assert html.index('<code class="version-name">1.0.0') < html.index('<code class="version-name">0.1.0')
    assert "helm fetch acme-alpha/demo --version 0.1.0" in html
    assert "Delete version" not in html  # Registry Read may not delete


def test_the_file_browser_lists_files_and_shows_text_escaped(cast, demo):
    web = client_for(cast.alpha_registry_read, cast.alpha_space)
    html = web.get(url("chart-files")).content.decode()
    assert 'data-testid="file-table"' in html and "demo/</a>" in html and "Choose a file" in html
    folder = web.get(url("chart-files"), {"version": "1.0.0", "dir": "demo/"}).content.decode()
    assert "values.yaml</a>" in folder and "templates/</a>" in folder and "path=demo/values.yaml" in folder
    html = web.get(url("chart-files"), {"version": "1.0.0", "path": "demo/values.yaml"}).content.decode()
    assert "<script>alert(&#x27;values&#x27;)</script>" not in html and "<script>alert('values')</script>" not in html
    assert "# &lt;script&gt;alert(&#x27;values&#x27;)&lt;/script&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    helpers = web.get(url("chart-files"), {"version": "1.0.0", "path": "demo/templates/_helpers.tpl"}).content.decode()
    assert "&lt;img src=x onerror=alert(1)&gt;" in helpers and "<img src=x" not in helpers
    binary = web.get(url("chart-files"), {"version": "1.0.0", "path": "demo/files/logo.png"}).content.decode()
    assert "This is a binary file." in binary
    chart_yaml = web.get(url("chart-files"), {"version": "0.1.0", "path": "demo/Chart.yaml"}).content.decode()
    assert "name: demo" in chart_yaml and "version: 0.1.0" in chart_yaml


def test_the_chart_file_browser_is_the_model_file_browser_and_lists_the_opened_files_folder(cast, demo):
    web = client_for(cast.alpha_registry_read, cast.alpha_space)
    response = web.get(url("chart-files"), {"version": "1.0.0", "path": "demo/templates/_helpers.tpl"})
    assert "_file_browser.html" in [template.name for template in response.templates]
    html = response.content.decode()
    assert 'aria-label="Folder"' in html and "dir=demo/templates/" in html  # the crumbs down to the file's folder
    assert '<tr aria-current="true">' in html and "_helpers.tpl</a>" in html  # the opened file is marked


def test_the_file_browser_refuses_paths_outside_the_listing(cast, demo):
    web = client_for(cast.alpha_registry_read, cast.alpha_space)
    assert web.get(url("chart-files"), {"path": "../../etc/passwd"}).status_code == 404
    assert web.get(url("chart-files"), {"path": "demo"}).status_code == 404
    assert web.get(url("chart-files"), {"version": "9.9.9"}).status_code == 404


def test_the_file_browser_does_not_read_a_file_over_the_cap(cast, demo, monkeypatch):
    monkeypatch.setattr("helmrepo.package_files.MAX_TEXT_BYTES", 10)
    html = client_for(cast.alpha_registry_read, cast.alpha_space).get(
        url("chart-files"), {"version": "1.0.0", "path": "demo/values.yaml"}
    ).content.decode()
    assert "larger than" in html and "replicaCount" not in html


# --- who sees what --------------------------------------------------------------------------------


@pytest.mark.parametrize("persona, space", [("beta_user", "beta_space"), ("outsider", "globex_space"), ("org_registry_user", "acme_space")])
def test_those_outside_the_team_get_404_on_every_chart_page(cast, demo, persona, space):
    web = client_for(getattr(cast, persona), getattr(cast, space))
    for name in ("chart", "chart-versions", "chart-files", "chart-edit", "chart-delete"):
        assert web.get(url(name)).status_code == 404, name
    assert web.post(url("chart-delete")).status_code == 404
    assert web.post(url("chart-version-delete", "acme/alpha/demo", "1.0.0")).status_code == 404
    assert Chart.objects.filter(pk=demo.pk).exists()


def test_registry_read_sees_no_buttons_and_is_refused_anyway(cast, demo):
    web = client_for(cast.alpha_registry_read, cast.alpha_space)
    html = web.get(url("chart")).content.decode()
    assert "Edit Details" not in html and "Delete Chart" not in html
    assert web.get(url("chart-edit")).status_code == 403
    assert web.post(url("chart-edit"), {"short_description": "hacked"}).status_code == 403
    assert web.post(url("chart-delete")).status_code == 403
    assert web.post(url("chart-version-delete", "acme/alpha/demo", "1.0.0")).status_code == 403
    demo.refresh_from_db()
    assert demo.short_description == "Doc testing chart" and demo.versions.count() == 2


def test_another_registry_user_may_edit_but_not_delete_what_they_did_not_create(cast, demo):
    other = cast.users["alpha_registry_admin"]  # sanity: admins may; a second plain user may not
    services.chart_create(actor=cast.owner, space=cast.alpha_space, name="owned", short_description="x")
    web = client_for(cast.alpha_registry_user, cast.alpha_space)
    html = web.get(url("chart", "acme/alpha/owned")).content.decode()
    assert "Edit Details" in html and "Delete Chart" not in html
    assert web.post(url("chart-delete", "acme/alpha/owned")).status_code == 403
    admin_html = client_for(other, cast.alpha_space).get(url("chart", "acme/alpha/owned")).content.decode()
    assert "Delete Chart" in admin_html


# --- edit and delete ------------------------------------------------------------------------------


def test_edit_details_saves_the_fields_and_requires_a_short_description(cast, demo):
    web = client_for(cast.alpha_registry_user, cast.alpha_space)
    form = {"display_name": "Demo Chart", "short_description": "Changed", "overview": "# Hello", "labels": "Helm Chart, Docs",
            "logo": "", "publisher": "Acme", "built_by": "Kristina"}
    response = web.post(url("chart-edit"), form)
    assert response.status_code == 302 and response["Location"] == url("chart")
    demo.refresh_from_db()
    assert (demo.display_name, demo.short_description, demo.labels, demo.built_by) == ("Demo Chart", "Changed", ["Helm Chart", "Docs"], "Kristina")
    refused = web.post(url("chart-edit"), {**form, "short_description": ""})
    assert refused.status_code == 200 and "This field is required" in refused.content.decode()
    bad_logo = web.post(url("chart-edit"), {**form, "logo": "javascript:alert(1)"})
    assert bad_logo.status_code == 200 and 'class="error" role="alert">logo:' in bad_logo.content.decode()


def test_deleting_a_version_asks_first_then_removes_only_it(cast, demo):
    web = client_for(cast.alpha_registry_user, cast.alpha_space)
    confirm = web.get(url("chart-version-delete", "acme/alpha/demo", "1.0.0")).content.decode()
    assert "acme/alpha/demo:1.0.0" in confirm and "helm fetch acme-alpha/demo --version 1.0.0" in confirm
    assert demo.versions.count() == 2
    response = web.post(url("chart-version-delete", "acme/alpha/demo", "1.0.0"), follow=True)
    assert "Deleted version acme/alpha/demo:1.0.0." in response.content.decode()
    demo.refresh_from_db()
    assert [v.version for v in demo.versions.all()] == ["0.1.0"] and demo.latest_version.version == "0.1.0"


def test_deleting_the_chart_names_every_version_then_removes_them_all(cast, demo):
    web = client_for(cast.alpha_registry_user, cast.alpha_space)
    confirm = web.get(url("chart-delete")).content.decode()
    assert "acme/alpha/demo:1.0.0" in confirm and "acme/alpha/demo:0.1.0" in confirm and "2 versions" in confirm
    response = web.post(url("chart-delete"), follow=True)
    assert "Deleted Helm chart acme/alpha/demo and its 2 version(s)." in response.content.decode()
    assert not Chart.objects.filter(name="demo").exists() and not ChartVersion.objects.exists()


# --- create ---------------------------------------------------------------------------------------


def create_fields(**overrides) -> dict:
    return {
        "name": "web-made", "display_name": "Web Made", "short_description": "Made in the portal",
        "publisher": "Acme", "built_by": "Platform team", "labels": "Helm Chart, web, web",
        "logo": "https://example.com/logo.png", "overview": "## Install\n\n<script>alert(1)</script>", **overrides,
    }


def test_the_create_form_makes_a_chart_record_in_the_current_space(cast):
    client = client_for(cast.alpha_registry_user, cast.alpha_space)
    form = client.get(reverse("helmcharts:chart-create"))
    assert form.status_code == 200
    html = form.content.decode()
    for label in ("Name", "Display name", "Short description", "Overview", "Labels", "Logo URL", "Publisher", "Built by"):
        assert f">{label}" in html, label
    response = client.post(reverse("helmcharts:chart-create"), create_fields())
    assert response.status_code == 302 and response["Location"] == url("chart", "acme/alpha/web-made")
    chart = Chart.objects.get(org__name="acme", team__name="alpha", name="web-made")
    assert (chart.display_name, chart.short_description, chart.publisher, chart.built_by) == (
        "Web Made", "Made in the portal", "Acme", "Platform team")
    assert chart.labels == ["Helm Chart", "web"] and chart.logo == "https://example.com/logo.png"
    assert chart.created_by == cast.alpha_registry_user and chart.latest_version is None
    page = client.get(response["Location"]).content.decode()
    assert "Created Helm chart acme/alpha/web-made." in page and "<script>alert(1)</script>" not in page
    # the list offers the form to writers; the same name again is a form error, not a second chart
    assert reverse("helmcharts:chart-create") in client.get(reverse("helmcharts:charts")).content.decode()
    again = client.post(reverse("helmcharts:chart-create"), create_fields(short_description="Other"))
    assert again.status_code == 200 and "already exists" in again.content.decode()
    assert Chart.objects.filter(name="web-made").count() == 1


def test_the_create_form_shows_service_errors_on_its_fields(cast):
    client = client_for(cast.alpha_registry_user, cast.alpha_space)
    bad_logo = client.post(reverse("helmcharts:chart-create"), create_fields(logo="javascript:alert(1)"))
    assert bad_logo.status_code == 200
    assert "logo" in bad_logo.context["form"].errors
    bad_name = client.post(reverse("helmcharts:chart-create"), create_fields(name="Bad Name"))
    assert bad_name.status_code == 200 and "name" in bad_name.context["form"].errors
    no_description = client.post(reverse("helmcharts:chart-create"), create_fields(short_description=""))
    assert no_description.status_code == 200 and "short_description" in no_description.context["form"].errors
    assert not Chart.objects.exists()


def test_registry_read_is_refused_the_create_form_and_nothing_is_created(cast):
    client = client_for(cast.alpha_registry_read, cast.alpha_space)
    assert client.get(reverse("helmcharts:chart-create")).status_code == 403
    assert client.post(reverse("helmcharts:chart-create"), create_fields()).status_code == 403
    assert reverse("helmcharts:chart-create") not in client.get(reverse("helmcharts:charts")).content.decode()
    assert reverse("helmcharts:chart-create") not in client.get(reverse("registry:hub")).content.decode()
    assert not Chart.objects.exists()
