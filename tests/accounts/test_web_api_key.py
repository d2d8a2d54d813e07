"""Setup → API Key: Generate → warning → Confirm → the key shown once; a new key retires the old."""
import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts import services
from tests.support.web import client_for

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

URL = "/setup/api-key"


def shown_key(response) -> str:
    match = re.search(r'<code id="api-key"[^>]*>([^<]+)</code>', response.content.decode())
    return match.group(1) if match else ""


@pytest.mark.django_db
def test_the_api_key_page_needs_sign_in():
    response = Client().get(URL)
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:signin"))
    assert reverse("accounts:api-key") == URL


@pytest.mark.django_db
def test_generating_asks_for_confirmation_then_shows_the_key_once(cast):
    client = client_for(cast.alpha_registry_read, cast.alpha_space)
    page = client.get(URL).content.decode()
    assert "Generate API Key" in page and "no API key yet" in page and "$oauthtoken" in page
    confirm = client.get(URL + "?generate=1").content.decode()
    assert "Confirm" in confirm and 'method="post"' in confirm

    response = client.post(URL, follow=True)
    key = shown_key(response)
    assert key.startswith("rk_") and response["Cache-Control"] == "no-store"
    assert 'data-copy="#api-key"' in response.content.decode()
    assert services.api_key_authenticate(key) == cast.alpha_registry_read

    later = client.get(URL).content.decode()
    assert key not in later and key[:10] in later and "Created" in later


@pytest.mark.django_db
def test_regenerating_invalidates_the_old_key(cast):
    client = client_for(cast.owner, cast.acme_space)
    old = shown_key(client.post(URL, follow=True))
    warning = client.get(URL + "?generate=1").content.decode()
    assert "stops working" in warning and old[:10] in warning
    new = shown_key(client.post(URL, follow=True))
    assert new and new != old
    assert services.api_key_authenticate(old) is None
    assert services.api_key_authenticate(new) == cast.owner


@pytest.mark.django_db
def test_generating_requires_csrf(cast):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.owner)
    assert client.post(URL).status_code == 403


@pytest.mark.django_db
def test_confirming_redirects_so_a_reload_never_regenerates_nor_shows_the_key_again(cast):
    client = client_for(cast.owner, cast.acme_space)
    response = client.post(URL)
    assert response.status_code == 302 and response.url == URL
    key = shown_key(client.get(URL))
    assert key.startswith("rk_")

    reload = client.get(URL)
    assert shown_key(reload) == "" and key not in reload.content.decode()
    assert services.api_key_authenticate(key) == cast.owner  # the reload replaced nothing
