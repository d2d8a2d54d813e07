"""The portal's model and resource pages: lists with search and bounded queries, Overview (and a
resource's doc tabs), Versions with metrics and Compare, the File Browser with escaped previews and
signed downloads, Create / Edit Details / deletes; who sees what and who is refused (CONVENTIONS 17).
Versions with files are made through the transfer protocol (tests/support/ngc_transfer.py)."""
import io
import zipfile

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from artifacts.versioned import services
from artifacts.versioned.transfers import finalize
from artifacts.versioned.models import ArtifactKind, ArtifactVersion, VersionedArtifact
from tests.support.ngc_transfer import DjangoTransport, Uploader
from tests.support.web import client_for, onboard

pytestmark = pytest.mark.django_db
ALPHA = "org/acme/team/alpha"
TREE = {
    "README.md": b"# bert\n<script>alert('readme')</script>\n",
    "weights/layer1.bin": bytes(range(256)) * 8,
    "weights/deep/config.json": b'{"layers": 12}',
}
METRICS_1 = [{"name": "Accuracy table", "attributes": [{"key": "top1", "value": "71.5"}, {"key": "top5", "value": "90.1"}]}]
METRICS_2 = [{"name": "Accuracy table", "attributes": [{"key": "top1", "value": "76.2"}, {"key": "f1", "value": "0.88"}]}]


@pytest.fixture
def cast(personas):
    onboard(*personas.users.values())
    return personas


def make_version(artifact, version: str, user, files: dict[str, bytes] | None = None, **fields) -> ArtifactVersion:
    """A version through the services, its files through the transfer protocol, then finalised."""
    row = services.version_create(actor=user, artifact=artifact, version=version, **fields)
    if files:
        space = f"org/{artifact.org.name}" + (f"/team/{artifact.team.name}" if artifact.team_id else "")
        Uploader(DjangoTransport(user), space, artifact.kind, artifact.name, version).upload_all(files, part_size=1024)
    finalize.version_request_completion(version=row, actor=user)
    return finalize.version_finalize(row.pk)


@pytest.fixture
def bert(cast):
    """acme/alpha/bert by alpha_registry_user: versions 1.0 and 2.0 with metrics; 2.0 has files."""
    user = cast.alpha_registry_user
    artifact = services.artifact_create(
        actor=user, space=cast.alpha_space, kind=ArtifactKind.MODEL, name="bert", display_name="BERT QA",
        short_description="Question answering", description="# BERT\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n<script>alert(1)</script>",
        labels=["nlp", "qa"], application="Question Answering", framework="PyTorch", precision="FP16",
    )
    make_version(artifact, "1.0", user, {"a.txt": b"one"}, accuracy_reached="71.5", custom_metrics=METRICS_1, gpu_model="A100")
    make_version(artifact, "2.0", user, TREE, accuracy_reached="76.2", number_of_epochs="30", custom_metrics=METRICS_2)
    artifact.refresh_from_db()
    return artifact


def url(name: str, *args, kind: str = "model") -> str:
    return reverse(f"versioned:{kind}{name}", args=args)


# --- lists ----------------------------------------------------------------------------------------


def test_the_list_shows_the_spaces_models_with_latest_version_size_and_application(cast, bert):
    page = client_for(cast.alpha_registry_read, cast.alpha_space).get(url("s"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "BERT QA" in html and "acme/alpha/bert" in html and url("", "acme/alpha/bert") in html
    assert "<code>2.0</code>" in html and "Question Answering" in html and "PyTorch" in html
    assert 'aria-current="page">Models' in html
    assert "Create Model" not in html  # read-only role


def test_search_matches_name_label_and_description(cast, bert):
    client = client_for(cast.alpha_registry_user, cast.alpha_space)
    for term in ("ber", "qa", "Question answering", "BERT QA"):
        assert "acme/alpha/bert" in client.get(url("s"), {"q": term}).content.decode(), term
    html = client.get(url("s"), {"q": "resnet"}).content.decode()
    assert "acme/alpha/bert" not in html and "No models match" in html


def test_empty_lists_say_what_to_do_next(cast):
    html = client_for(cast.alpha_registry_user, cast.alpha_space).get(url("s", kind="resource")).content.decode()
    assert "No resources in acme/alpha yet" in html
    assert url("-create", kind="resource") in html and "ngc registry resource create acme/alpha/" in html
    html = client_for(cast.alpha_registry_read, cast.alpha_space).get(url("s")).content.decode()
    assert "No models in acme/alpha yet" in html and url("-create") not in html


def test_other_spaces_artifacts_are_not_listed(cast, bert):
    assert "acme/alpha/bert" not in client_for(cast.beta_user, cast.beta_space).get(url("s")).content.decode()
    assert "acme/alpha/bert" not in client_for(cast.owner, cast.acme_space).get(url("s")).content.decode()


def _list_queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


def test_the_list_makes_the_same_number_of_queries_for_10_and_200_models(cast):
    user = cast.alpha_registry_user
    client = client_for(user, cast.alpha_space)

    def add(count: int, start: int):
        for index in range(start, start + count):
            artifact = services.artifact_create(actor=user, space=cast.alpha_space, kind="models", name=f"m{index:03d}", labels=["x"])
            make_version(artifact, "1", user)

    add(10, 0)
    small = _list_queries(client, url("s"))
    add(190, 10)
    assert _list_queries(client, url("s")) == small
    assert _list_queries(client, url("s") + "?page=8") == small


def test_the_versions_tab_makes_the_same_number_of_queries_for_10_and_200_versions(cast):
    user = cast.alpha_registry_user
    artifact = services.artifact_create(actor=user, space=cast.alpha_space, kind="models", name="many")
    client = client_for(user, cast.alpha_space)
    for index in range(10):
        make_version(artifact, f"1.{index}", user, custom_metrics=METRICS_1)
    small = _list_queries(client, url("-versions", "acme/alpha/many"))
    for index in range(10, 200):
        services.version_create(actor=user, artifact=artifact, version=f"1.{index}", custom_metrics=METRICS_1)
    assert _list_queries(client, url("-versions", "acme/alpha/many")) == small


# --- detail tabs ----------------------------------------------------------------------------------


def test_the_overview_renders_markdown_with_tables_and_a_script_is_inert(cast, bert):
    html = client_for(cast.alpha_registry_read, cast.alpha_space).get(url("", "acme/alpha/bert")).content.decode()
    assert "<table>" in html and "<h1>BERT</h1>" in html
    assert "<script>alert(1)" not in html and "alert(1)" not in html
    assert "ngc registry model download-version acme/alpha/bert:2.0" in html
    assert "/v2/org/acme/team/alpha/models/bert/versions/2.0/zip" in html
    assert "FP16" in html and "nlp" in html


def test_the_zip_link_takes_the_portal_session(cast, bert):
    client = client_for(cast.alpha_registry_read, cast.alpha_space)
    response = client.get("/v2/org/acme/team/alpha/models/bert/versions/2.0/zip")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.read("weights/deep/config.json") == TREE["weights/deep/config.json"]


def test_a_resource_shows_its_documentation_tabs_when_present(cast):
    artifact = services.artifact_create(
        actor=cast.alpha_registry_user, space=cast.alpha_space, kind="resources", name="scripts",
        quick_start_guide="## Start\n\n```\npip install x\n```", release_notes="",
    )
    client = client_for(cast.alpha_registry_read, cast.alpha_space)
    html = client.get(url("", artifact.resource_id, kind="resource")).content.decode()
    doc = reverse("versioned:resource-doc", args=[artifact.resource_id, "quick-start-guide"])
    assert doc in html and "Release notes" not in html
    page = client.get(doc).content.decode()
    assert "<h2>Start</h2>" in page and "<pre><code>pip install x" in page


def test_versions_show_details_and_metrics_and_compare_puts_them_side_by_side(cast, bert):
    client = client_for(cast.alpha_registry_read, cast.alpha_space)
    html = client.get(url("-versions", "acme/alpha/bert")).content.decode()
    assert "76.2" in html and "A100" in html and "Accuracy table" in html and "90.1" in html
    assert 'name="v" value="1.0"' in html and "Delete" not in html
    page = client.get(url("-compare", "acme/alpha/bert"), {"v": ["1.0", "2.0"]})
    html = page.content.decode()
    assert page.status_code == 200
    row = html[html.index("<th scope=\"row\">top1</th>"):]
    row = row[: row.index("</tr>")]
    assert "71.5" in row and "76.2" in row
    assert "f1" in html and "0.88" in html and "90.1" in html
    one = client.get(url("-compare", "acme/alpha/bert"), {"v": ["1.0"]})
    assert one.status_code == 302


def test_a_version_has_its_own_page_with_fields_metrics_files_download_and_related_link(cast, bert):
    row = bert.versions.get(version="2.0")
    row.link, row.link_type = "https://github.com/acme/bert", "Github"
    row.save(update_fields=["link", "link_type"])
    client = client_for(cast.alpha_registry_read, cast.alpha_space)
    page = url("-version", "acme/alpha/bert", "2.0")
    assert page == "/registry/models/acme/alpha/bert/-/versions/2.0"
    html = client.get(page).content.decode()
    assert "Version <code>2.0</code>" in html and "76.2" in html and "30" in html
    assert "<caption>Accuracy table</caption>" in html and "0.88" in html
    assert "weights/deep/config.json" in html and 'href="/v2/transfers/files/' in html
    assert "ngc registry model download-version acme/alpha/bert:2.0" in html
    assert 'Github: <a href="https://github.com/acme/bert"' in html
    # linked from the versions list, compare and the header's latest version
    for source in (url("-versions", "acme/alpha/bert"), url("-compare", "acme/alpha/bert") + "?v=1.0&v=2.0", url("", "acme/alpha/bert")):
        assert f'href="{page}"' in client.get(source).content.decode(), source
    assert client.get(url("-version", "acme/alpha/bert", "9.9")).status_code == 404


def test_a_related_link_that_is_not_http_is_shown_as_text_never_as_a_link(cast, bert):
    row = bert.versions.get(version="1.0")
    row.link, row.link_type = "javascript:alert(1)", "Other"
    row.save(update_fields=["link", "link_type"])
    html = client_for(cast.alpha_registry_read, cast.alpha_space).get(url("-version", "acme/alpha/bert", "1.0")).content.decode()
    assert "<code>javascript:alert(1)</code>" in html and 'href="javascript:' not in html


def test_the_file_browser_navigates_folders_and_escapes_a_text_file(cast, bert):
    client = client_for(cast.alpha_registry_read, cast.alpha_space)
    files = url("-files", "acme/alpha/bert", "2.0")
    html = client.get(files).content.decode()
    assert "weights/" in html and "README.md" in html and "layer1.bin" not in html
    sub = client.get(files, {"path": "weights/"}).content.decode()
    assert "layer1.bin" in sub and "deep/" in sub, sub[sub.index("file-table"):]
    assert "2.0\xa0KB" in sub
    preview = client.get(files, {"file": "README.md"}).content.decode()
    assert "&lt;script&gt;alert(&#x27;readme&#x27;)&lt;/script&gt;" in preview
    assert "<script>alert('readme')" not in preview
    binary = client.get(files, {"path": "weights/", "file": "weights/layer1.bin"}).content.decode()
    assert "not UTF-8 text" in binary


def test_a_file_download_link_gives_the_bytes(cast, bert):
    client = client_for(cast.alpha_registry_read, cast.alpha_space)
    html = client.get(url("-files", "acme/alpha/bert", "2.0"), {"path": "weights/deep/"}).content.decode()
    start = html.index('href="/v2/transfers/files/') + len('href="')
    link = html[start: html.index('"', start)].replace("&amp;", "&")
    response = client.get(link)
    assert response.status_code == 200 and b"".join(response.streaming_content) == TREE["weights/deep/config.json"]


# --- who may do what --------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["beta_user", "outsider"])
def test_who_may_not_read_gets_404_on_every_page(cast, bert, persona):
    user = getattr(cast, persona)
    client = client_for(user, cast.beta_space if persona == "beta_user" else cast.globex_space)
    ref = "acme/alpha/bert"
    for path in (url("", ref), url("-versions", ref), url("-version", ref, "2.0"), url("-files", ref, "2.0"), url("-edit", ref), url("-delete", ref),
                 url("-version-delete", ref, "1.0"), url("-compare", ref) + "?v=1.0&v=2.0"):
        assert client.get(path).status_code == 404, path
    assert client.post(url("-delete", ref)).status_code == 404
    assert client.post(url("-edit", ref), {"display_name": "x"}).status_code == 404
    assert VersionedArtifact.objects.filter(pk=bert.pk, display_name="BERT QA").exists()


def test_registry_read_sees_no_write_controls_and_its_posts_change_nothing(cast, bert):
    client = client_for(cast.alpha_registry_read, cast.alpha_space)
    ref = "acme/alpha/bert"
    for path in (url("", ref), url("-versions", ref), url("-files", ref, "2.0")):
        html = client.get(path).content.decode()
        assert "Edit Details" not in html and url("-delete", ref) not in html and "/delete" not in html, path
        assert "Upload Version" not in html and reverse("registry:model-upload", args=[ref]) not in html, path
    assert client.get(url("-edit", ref)).status_code == 403
    assert client.post(url("-edit", ref), {"display_name": "hacked"}).status_code == 403
    assert client.post(url("-delete", ref)).status_code == 403
    assert client.post(url("-version-delete", ref, "1.0")).status_code == 403
    assert client.get(url("-create")).status_code == 403
    assert client.post(url("-create"), {"name": "sneaky"}).status_code == 403
    bert.refresh_from_db()
    assert bert.display_name == "BERT QA" and bert.versions.count() == 2
    assert not VersionedArtifact.objects.filter(name="sneaky").exists()


def test_the_detail_pages_link_writers_to_the_upload_page(cast):
    model = services.artifact_create(actor=cast.alpha_registry_user, space=cast.alpha_space, kind=ArtifactKind.MODEL, name="m1")
    resource = services.artifact_create(
        actor=cast.alpha_registry_user, space=cast.alpha_space, kind=ArtifactKind.RESOURCE, name="r1",
    )
    writer = client_for(cast.alpha_registry_user, cast.alpha_space)
    reader = client_for(cast.alpha_registry_read, cast.alpha_space)
    for artifact, kind in ((model, "model"), (resource, "resource")):
        upload = reverse(f"registry:{kind}-upload", args=[artifact.resource_id])
        for path in (url("", artifact.resource_id, kind=kind), url("-versions", artifact.resource_id, kind=kind)):
            html = writer.get(path).content.decode()
            assert f'href="{upload}">Upload Version</a>' in html, path
            assert "Upload Version" not in reader.get(path).content.decode(), path
        assert writer.get(upload).status_code == 200


def test_another_team_member_with_write_cannot_delete_what_they_did_not_create(cast, bert):
    client = client_for(cast.alpha_registry_admin, cast.alpha_space)
    assert "Delete Model" in client.get(url("", "acme/alpha/bert")).content.decode()
    other = cast.users["alpha_registry_user"]
    assert other == bert.created_by


# --- create, edit, delete ---------------------------------------------------------------------------


def test_create_model_with_dropdowns_and_field_errors(cast):
    client = client_for(cast.alpha_registry_user, cast.alpha_space)
    form = client.get(url("-create")).content.decode()
    assert "Object Detection" in form and "Transfer Learning Toolkit" in form and "TensorRT Plan" in form and "INT8" in form
    assert "Alpha Registry User" in form  # the owner dropdown lists the space's members
    bad = client.post(url("-create"), {"name": "Bad Name!", "logo": "not a url"})
    assert bad.status_code == 200 and "Use 1-64 lowercase letters" in bad.content.decode() and "Enter a valid URL" in bad.content.decode()
    response = client.post(url("-create"), {
        "name": "detector", "display_name": "Detector", "short_description": "Finds things", "labels": "vision, cars",
        "application": "Object Detection", "framework": "TensorRT", "model_format": "ONNX", "precision": "INT8",
        "owner_name": "Alpha Registry User", "description": "# Detector",
    })
    assert response.status_code == 302 and response["Location"] == url("", "acme/alpha/detector")
    created = VersionedArtifact.objects.get(name="detector")
    assert created.team == cast.alpha and created.labels == ["vision", "cars"] and created.precision == "INT8"
    assert created.created_by == cast.alpha_registry_user
    again = client.post(url("-create"), {"name": "detector"})
    assert "already exists" in again.content.decode()


def test_create_resource_has_the_documentation_fields(cast):
    client = client_for(cast.alpha_registry_user, cast.alpha_space)
    assert "Quick start guide" in client.get(url("-create", kind="resource")).content.decode()
    response = client.post(url("-create", kind="resource"), {"name": "recipe", "release_notes": "## 1.0"})
    assert response.status_code == 302
    assert VersionedArtifact.objects.get(name="recipe", kind="resources").release_notes == "## 1.0"


def test_edit_details_saves_and_shows_service_errors(cast, bert):
    client = client_for(cast.alpha_registry_user, cast.alpha_space)
    edit = url("-edit", "acme/alpha/bert")
    form = client.get(edit).content.decode()
    assert 'value="BERT QA"' in form and "nlp, qa" in form
    response = client.post(edit, {"display_name": "BERT large", "labels": "nlp", "application": "Translation", "precision": "FP32"})
    assert response.status_code == 302
    bert.refresh_from_db()
    assert bert.display_name == "BERT large" and bert.labels == ["nlp"] and bert.application == "Translation"
    refused = client.post(edit, {"display_name": "x", "application": "Telepathy"})
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()


def test_delete_a_version_after_a_confirmation_naming_it(cast, bert):
    client = client_for(cast.alpha_registry_user, cast.alpha_space)
    confirm = client.get(url("-version-delete", "acme/alpha/bert", "2.0")).content.decode()
    assert "acme/alpha/bert:2.0" in confirm and "3 files" in confirm and "latest" in confirm
    assert client.post(url("-version-delete", "acme/alpha/bert", "2.0")).status_code == 302
    bert.refresh_from_db()
    assert list(bert.versions.values_list("version", flat=True)) == ["1.0"] and bert.latest_version.version == "1.0"


def test_delete_a_model_with_all_its_versions_after_a_confirmation_naming_them(cast, bert):
    client = client_for(cast.alpha_registry_user, cast.alpha_space)
    confirm = client.get(url("-delete", "acme/alpha/bert")).content.decode()
    assert "acme/alpha/bert:1.0" in confirm and "acme/alpha/bert:2.0" in confirm and "2 versions" in confirm
    response = client.post(url("-delete", "acme/alpha/bert"))
    assert response.status_code == 302 and response["Location"] == url("s")
    assert not VersionedArtifact.objects.filter(pk=bert.pk).exists()
