"""Invitation links in the browser: create an account or sign in to accept; used, expired and
malformed links get clear pages (410 / 404), never a traceback."""
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import RoleBinding, User
from accounts.roles import Role
from tests.support.personas import PASSWORD

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

NEW_PASSWORD = "a-fresh-passphrase-77"


def invite(cast, email="newcomer@example.test", **kwargs):
    kwargs.setdefault("team", cast.alpha)
    kwargs.setdefault("team_roles", [Role.REGISTRY_USER])
    invitation = services.invitation_create(actor=cast.owner, org=cast.acme, email=email, name="New Comer", **kwargs)
    return reverse("accounts:invitation", args=[services.invitation_link_token(invitation)]), invitation


def sign_up(client, url, **overrides):
    data = {"name": "New Comer", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD, "terms": "on", **overrides}
    return client.post(url, data)


@pytest.mark.django_db
def test_a_garbage_link_is_a_clear_404():
    for token in ("garbage", "12-" + "0" * 40, "999999-" + "a" * 40):
        response = Client().get(reverse("accounts:invitation", args=[token]))
        assert response.status_code == 404
        assert b"This invitation link is not valid" in response.content


@pytest.mark.django_db
def test_a_new_person_creates_an_account_and_walks_through_activation(cast, django_capture_on_commit_callbacks):
    url, invitation = invite(cast)
    client = Client()
    page = client.get(url).content.decode()
    assert "Create your account" in page and "newcomer@example.test" in page and "Terms and Conditions" in page

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = sign_up(client, url)
    assert response.status_code == 302 and response.url == reverse("accounts:verify-email-sent")
    assert len(callbacks) == 1  # the verification e-mail, queued after commit
    user = User.objects.get(email="newcomer@example.test")
    assert user.name == "New Comer" and user.terms_accepted_at is not None and not user.email_verified
    assert RoleBinding.objects.filter(user=user, team=cast.alpha, role=Role.REGISTRY_USER).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_by == user

    # The gate holds an unverified account on "Verify your e-mail".
    assert client.get("/dashboard").url == reverse("accounts:verify-email-sent")
    waiting = client.get(reverse("accounts:verify-email-sent"))
    assert b"Verify your e-mail" in waiting.content and b"Resend" in waiting.content

    verify = reverse("accounts:verify-email", args=[services.email_verification_link_token(user)])
    assert client.get(verify).url == reverse("accounts:preferences")
    assert b"Almost done!" in client.get(reverse("accounts:preferences")).content
    assert client.post(reverse("accounts:preferences"), {"product_news_opt_in": "on"}).url == reverse("accounts:set-organization")
    user.refresh_from_db()
    assert user.email_verified and user.product_news_opt_in and user.preferences_completed

    choose = client.get(reverse("accounts:set-organization")).content.decode()
    assert 'value="acme/alpha"' in choose and 'value="acme/beta"' not in choose
    assert client.post(reverse("accounts:set-organization"), {"org": "acme", "team": "acme/alpha"}).url == reverse("accounts:dashboard")
    assert b"Registry User" in client.get("/dashboard").content


@pytest.mark.django_db
def test_the_verification_link_works_once(cast):
    url, _ = invite(cast)
    client = Client()
    sign_up(client, url)
    user = User.objects.get(email="newcomer@example.test")
    verify = reverse("accounts:verify-email", args=[services.email_verification_link_token(user)])
    client.get(verify)
    again = client.get(verify)
    assert again.status_code == 410 and b"already been used" in again.content
    assert Client().get(reverse("accounts:verify-email", args=["junk"])).status_code == 404


@pytest.mark.django_db
def test_create_account_form_errors(cast):
    url, _ = invite(cast)
    client = Client()
    response = sign_up(client, url, terms="")
    assert b"You must agree to the Terms and Conditions" in response.content
    response = sign_up(client, url, password_confirm="something-else-123")
    assert b"The two passwords do not match." in response.content
    response = sign_up(client, url, password="short", password_confirm="short")
    assert b"This password is too short" in response.content
    assert not User.objects.filter(email="newcomer@example.test").exists()


@pytest.mark.django_db
def test_an_invitation_link_used_twice_is_a_clear_410(cast):
    url, _ = invite(cast)
    sign_up(Client(), url)
    for client in (Client(), Client()):
        response = client.get(url)
        assert response.status_code == 410
        assert b"This invitation has already been used" in response.content
        assert sign_up(client, url).status_code == 410


@pytest.mark.django_db
def test_an_expired_invitation_is_a_clear_410(cast):
    url, invitation = invite(cast)
    invitation.expires_at = timezone.now() - timedelta(minutes=1)
    invitation.save(update_fields=["expires_at"])
    response = Client().get(url)
    assert response.status_code == 410
    assert b"This invitation has expired" in response.content
    assert b"Traceback" not in response.content


@pytest.mark.django_db
def test_an_existing_account_signs_in_to_accept(cast):
    url, invitation = invite(cast, email="beta-user@example.test")
    client = Client()
    page = client.get(url).content.decode()
    assert "Sign in and accept" in page and "Create your account" not in page
    response = client.post(url, {"password": "wrong"})
    assert b"Incorrect password." in response.content
    assert not RoleBinding.objects.filter(user=cast.beta_user, team=cast.alpha).exists()

    response = client.post(url, {"password": PASSWORD})
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:set-organization"))
    assert RoleBinding.objects.filter(user=cast.beta_user, team=cast.alpha, role=Role.REGISTRY_USER).exists()
    choose = client.get(response.url).content.decode()
    assert 'value="acme/alpha" selected' in choose


@pytest.mark.django_db
def test_a_signed_in_invitee_accepts_with_one_click(cast):
    url, _ = invite(cast, email="beta-user@example.test")
    client = Client()
    client.force_login(cast.beta_user)
    assert b"Accept invitation" in client.get(url).content
    assert client.post(url).status_code == 302
    assert RoleBinding.objects.filter(user=cast.beta_user, team=cast.alpha).exists()
