"""Uploaded logos (issue 17): one upload field and one service for containers, models/resources
and Helm charts; bytes in the blob store, type sniffed from the bytes, served at /logos/<digest>."""
import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from artifacts import services as container_services
from artifacts.blobs.gc import blob_referenced
from artifacts.logos import MAX_LOGO_BYTES
from artifacts.models import Blob, Logo
from artifacts.versioned import services as versioned_services
from artifacts.versioned.models import ArtifactKind
from helmrepo import services as chart_services
from registry_portal.site_urls import site_url
from tests.support.web import client_for, onboard

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"logo-bytes" * 20
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


@pytest.fixture
def cast(personas):
    onboard(*personas.users.values())
    return personas


def png_upload(content: bytes = PNG, name: str = "logo.png", content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def logo_path(content: bytes = PNG) -> str:
    return reverse("artifacts:logo", args=["sha256:" + hashlib.sha256(content).hexdigest()])


@pytest.fixture
def kinds(cast):
    """(edit URL, form fields, list URL, detail URL) of one container repository, one model and one chart in acme/alpha."""
    user, space = cast.alpha_registry_user, cast.alpha_space
    container_services.repository_create(actor=user, space=space, path="app")
    versioned_services.artifact_create(actor=user, space=space, kind=ArtifactKind.MODEL, name="bert", short_description="QA")
    chart_services.chart_create(actor=user, space=space, name="demo", short_description="Doc chart")
    return {
        "container": (reverse("artifacts:container-edit", args=["acme/alpha/app"]), {"display_name": "App"},
                      reverse("artifacts:containers"), reverse("artifacts:container", args=["acme/alpha/app"])),
        "model": (reverse("versioned:model-edit", args=["acme/alpha/bert"]), {"display_name": "BERT", "short_description": "QA"},
                  reverse("versioned:models"), reverse("versioned:model", args=["acme/alpha/bert"])),
        "chart": (reverse("helmcharts:chart-edit", args=["acme/alpha/demo"]), {"short_description": "Doc chart"},
                  reverse("helmcharts:charts"), reverse("helmcharts:chart", args=["acme/alpha/demo"])),
    }


@pytest.mark.parametrize("kind", ["container", "model", "chart"])
def test_an_uploaded_png_is_served_as_image_png_with_nosniff_and_shown_on_the_list_and_header(cast, kinds, kind):
    edit_url, fields, list_url, detail_url = kinds[kind]
    web = client_for(cast.alpha_registry_user, cast.alpha_space)
    response = web.post(edit_url, {**fields, "logo_file": png_upload(name="logo.txt", content_type="text/plain")})
    assert response.status_code == 302
    served = web.get(logo_path())
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff" and "max-age=31536000" in served["Cache-Control"]
    assert b"".join(served.streaming_content) == PNG
    for page in (list_url, detail_url, reverse("registry:catalog")):
        assert f'src="{site_url()}{logo_path()}"' in web.get(page).content.decode(), page
    assert 'repo-logo-mark' not in web.get(detail_url).content.decode()  # the image, not the initial
    logo = Logo.objects.get()
    assert Blob.objects.filter(blob_referenced(), pk=logo.blob_id).exists()  # garbage collection keeps it


@pytest.mark.parametrize("kind", ["container", "model", "chart"])
def test_it_refuses_a_logo_over_1_mib_an_svg_and_a_text_file_named_png(cast, kinds, kind):
    edit_url, fields, *_ = kinds[kind]
    web = client_for(cast.alpha_registry_user, cast.alpha_space)
    too_big = web.post(edit_url, {**fields, "logo_file": png_upload(PNG + b"\x00" * (MAX_LOGO_BYTES + 1 - len(PNG)))})
    assert too_big.status_code == 200 and "A logo may be at most 1024 KiB." in too_big.content.decode()
    for content, name, content_type in ((SVG, "logo.svg", "image/svg+xml"), (b"just text\n", "logo.png", "image/png")):
        refused = web.post(edit_url, {**fields, "logo_file": png_upload(content, name, content_type)})
        assert refused.status_code == 200 and "must be a PNG, JPEG, GIF or WebP image" in refused.content.decode()
    assert not Logo.objects.exists()


def test_a_logo_of_exactly_1_mib_is_accepted(cast, kinds):
    edit_url, fields, *_ = kinds["chart"]
    content = PNG + b"\x00" * (MAX_LOGO_BYTES - len(PNG))
    response = client_for(cast.alpha_registry_user, cast.alpha_space).post(edit_url, {**fields, "logo_file": png_upload(content)})
    assert response.status_code == 302 and Logo.objects.get().media_type == "image/png"


def test_a_logo_is_served_to_any_signed_in_user_but_not_to_anonymous_visitors(cast, kinds, client):
    edit_url, fields, *_ = kinds["container"]
    client_for(cast.alpha_registry_user, cast.alpha_space).post(edit_url, {**fields, "logo_file": png_upload()})
    assert client_for(cast.outsider, cast.globex_space).get(logo_path()).status_code == 200
    anonymous = client.get(logo_path())
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("accounts:signin"))
    assert client_for(cast.outsider).get(logo_path(b"unknown")).status_code == 404


def test_a_logo_whose_blob_was_quarantined_is_not_served_until_uploaded_again(cast, kinds):
    edit_url, fields, *_ = kinds["model"]
    web = client_for(cast.alpha_registry_user, cast.alpha_space)
    web.post(edit_url, {**fields, "logo_file": png_upload()})
    Blob.objects.filter(digest=Logo.objects.get().digest).update(verified_at=None)  # as blob_quarantine leaves it
    assert web.get(logo_path()).status_code == 404
    assert web.post(edit_url, {**fields, "logo_file": png_upload()}).status_code == 302
    assert web.get(logo_path()).status_code == 200
