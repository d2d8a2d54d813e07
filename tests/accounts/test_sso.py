"""Single sign-on by e-mail domain (guide 2.2.1) against a real OpenID Connect provider
(npm's oidc-provider, tests/support/oidc/): the portal side is Django's test client, the
person at the provider's login page is a requests session (tests.support.oidc_provider.log_in).
"""
import time
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.test import Client
from joserfc import jwt

from accounts import services, sso
from registry_portal.errors import AccessDenied, Conflict
from accounts.models import Invitation, RoleBinding, SsoDomain, SsoIdentity, SsoProvider, User
from accounts.permissions import Space
from accounts.roles import Role
from accounts.middleware import SESSION_ORG
from accounts.sso_views import SESSION_PENDING
from tests.support import oidc_provider as oidc
from tests.support.personas import PASSWORD
from tests.support.servers import free_port
from tests.support.web import client_for, onboard
from tests.support.auth import basic_auth

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme_sso(personas, oidc_provider, monkeypatch):
    """acme maps acme.example to the test provider; the secret comes from an environment variable."""
    monkeypatch.setenv("ACME_OIDC_SECRET", oidc.CLIENT_SECRET)
    return sso.provider_configure(
        org=personas.acme, actor=personas.owner, issuer=oidc_provider.issuer, client_id=oidc.CLIENT_ID,
        client_secret_env="ACME_OIDC_SECRET", domains=["acme.example"],
    )


def invite(personas, email: str, *, team_roles=(Role.REGISTRY_USER,)) -> Invitation:
    return services.invitation_create(
        actor=personas.owner, org=personas.acme, email=email, team=personas.alpha, team_roles=list(team_roles)
    )


def through_provider(client: Client, response, login: str):
    """From the portal's redirect to the provider, log in there and bring the answer back."""
    assert response.status_code == 302, response.content[:500]
    callback = oidc.log_in(response["Location"], login)
    parsed = urlparse(callback)
    return client.get(f"{parsed.path}?{parsed.query}"), callback


def sso_sign_in(client: Client, email: str, login: str | None = None):
    return through_provider(client, client.post("/accounts/signin", {"email": email}), login or email)


def provider_token(oidc_provider, *, client_id: str = oidc.CLIENT_ID, nonce: str = "n-1", login: str = "new@acme.example") -> str:
    """A genuine ID token from the provider, obtained as a relying party would."""
    verifier = generate_token(64)
    client = OAuth2Session(
        client_id=client_id, client_secret=oidc.CLIENT_SECRET, scope="openid email profile",
        redirect_uri="http://127.0.0.1:9/accounts/sso/callback", code_challenge_method="S256",
    )
    url, _ = client.create_authorization_url(f"{oidc_provider.issuer}/auth", nonce=nonce, code_verifier=verifier)
    code = parse_qs(urlparse(oidc.log_in(url, login)).query)["code"][0]
    return client.fetch_token(f"{oidc_provider.issuer}/token", code=code, code_verifier=verifier)["id_token"]


def minted(oidc_provider, **claims) -> str:
    """A token signed with the provider's own key (tests hold it), with the claims given."""
    now = int(time.time())
    body = {"iss": oidc_provider.issuer, "aud": oidc.CLIENT_ID, "sub": "new@acme.example", "nonce": "n-1",
            "iat": now, "exp": now + 300, **claims}
    return jwt.encode({"alg": "RS256", "kid": "test-signing-key"}, body, oidc_provider.keys)


# --- sign-in routed by domain ------------------------------------------------------------------


def test_an_invitation_to_a_mapped_domain_opens_the_provider_and_the_first_sign_in_creates_the_account(personas, acme_sso):
    invitation = invite(personas, "new.person@acme.example")
    client = Client()
    response = client.get(f"/accounts/invitations/{services.invitation_link_token(invitation)}")
    assert response["Location"].startswith(f"{acme_sso.issuer}/auth?")
    query = parse_qs(urlparse(response["Location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"] and query["nonce"] and query["state"]
    assert query["login_hint"] == ["new.person@acme.example"]

    landed, _ = through_provider(client, response, "new.person@acme.example")

    assert landed.status_code == 302 and landed["Location"].startswith("/accounts/set-organization?org=acme&team=acme%2Falpha")
    user = User.objects.get(email="new.person@acme.example")
    assert user.name == "New Person" and user.email_verified and not user.has_usable_password()
    assert set(RoleBinding.objects.filter(user=user).values_list("team__name", "role")) == {("alpha", Role.REGISTRY_USER)}
    assert SsoIdentity.objects.get(user=user).subject == "new.person@acme.example"
    invitation.refresh_from_db()
    assert invitation.accepted_by == user
    # The guide's remaining steps: preferences first (no e-mail verification step), then the org.
    assert client.get(landed["Location"])["Location"] == "/accounts/preferences"


def test_an_unmapped_domain_keeps_the_password_path(personas, acme_sso):
    client = Client()
    response = client.post("/accounts/signin", {"email": personas.org_registry_user.email, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/set-organization")
    assert client.session["_auth_user_id"] == str(personas.org_registry_user.pk)
    # Without a password an unmapped address stays on the password form.
    response = Client().post("/accounts/signin", {"email": personas.org_registry_user.email, "password": ""})
    assert response.status_code == 200 and b"This field is required" in response.content


def test_sign_in_asks_for_the_email_first_and_an_unmapped_domain_continues_to_the_password_form(personas, acme_sso):
    client = Client()
    first = client.get("/accounts/signin?next=/teams")
    assert first.status_code == 200 and b'name="password"' not in first.content and b"Continue" in first.content
    email = personas.org_registry_user.email
    step = client.post("/accounts/signin", {"email": email.upper(), "next": "/teams"})
    assert step.status_code == 302 and step["Location"] == f"/accounts/signin?email={email.replace('@', '%40')}&next=%2Fteams"
    second = client.get(step["Location"])
    assert second.context["form"]["email"].value() == email and b'name="password"' in second.content
    assert b'href="/accounts/signin?next=%2Fteams">Use another e-mail' in second.content
    landed = client.post(step["Location"], {"email": email, "password": PASSWORD, "next": "/teams"})
    assert landed.status_code == 302 and landed["Location"] == "/accounts/set-organization?next=%2Fteams"
    assert client.session["_auth_user_id"] == str(personas.org_registry_user.pk)


def test_a_mapped_domain_at_the_email_step_goes_to_the_provider_and_keeps_next(personas, acme_sso, oidc_provider):
    client = Client()
    response = client.post("/accounts/signin", {"email": "New@Acme.example", "next": "/teams"})
    assert response.status_code == 302 and response["Location"].startswith(oidc_provider.issuer)
    assert parse_qs(urlparse(response["Location"]).query)["login_hint"] == ["new@acme.example"]
    [pending] = client.session[SESSION_PENDING].values()
    assert pending["next"] == "/teams"


def test_the_password_step_for_a_mapped_address_shows_the_email_step_pointing_to_single_sign_on(personas, acme_sso):
    response = Client().get("/accounts/signin?email=pat@acme.example")
    assert response.status_code == 200 and b'name="password"' not in response.content
    assert b"signs in with single sign-on" in response.content
    assert response.context["form"]["email"].value() == "pat@acme.example"


def test_it_refuses_a_password_for_a_mapped_domain_and_points_to_single_sign_on(personas, acme_sso):
    user = services.user_create(email="pat@acme.example", password=PASSWORD, email_verified=True)
    services.role_add(actor=personas.owner, space=personas.acme_space, user=user, roles=[Role.REGISTRY_READ])
    client = Client()
    response = client.post("/accounts/signin?email=pat@acme.example", {"email": "pat@acme.example", "password": PASSWORD})
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    assert b"signs in with single sign-on" in response.content


def test_it_refuses_a_mapped_domain_staff_password_at_the_admin_login_but_not_the_break_glass_owner(personas, oidc_provider):
    boss = services.user_create(email="boss@initech.example", password=PASSWORD, email_verified=True)
    initech = services.org_create(name="initech", display_name="Initech", owner=boss)
    staff = services.user_create(email="ops@initech.example", password=PASSWORD, email_verified=True)
    User.objects.filter(pk__in=[boss.pk, staff.pk]).update(is_staff=True, is_superuser=True)
    provider = sso.provider_configure(
        org=initech, actor=boss, issuer=oidc_provider.issuer, client_id=oidc.CLIENT_ID, client_secret=oidc.CLIENT_SECRET,
        domains=["initech.example"],
    )
    staff_client, owner_client = Client(), Client()
    response = staff_client.post("/admin/login/?next=/admin/", {"username": staff.email, "password": PASSWORD})
    assert response.status_code == 200 and "_auth_user_id" not in staff_client.session
    assert b"signs in with single sign-on" in response.content
    owner_client.post("/admin/login/?next=/admin/", {"username": boss.email, "password": PASSWORD})
    assert "_auth_user_id" not in owner_client.session  # no break-glass yet
    SsoProvider.objects.filter(pk=provider.pk).update(allow_owner_password=True)
    response = owner_client.post("/admin/login/?next=/admin/", {"username": boss.email, "password": PASSWORD})
    assert response.status_code == 302 and owner_client.session["_auth_user_id"] == str(boss.pk)
    staff_client.post("/admin/login/?next=/admin/", {"username": staff.email, "password": PASSWORD})
    assert "_auth_user_id" not in staff_client.session


def test_the_break_glass_flag_lets_the_org_owner_alone_sign_in_with_a_password(personas, oidc_provider):
    boss = services.user_create(email="boss@initech.example", password=PASSWORD, email_verified=True)
    initech = services.org_create(name="initech", display_name="Initech", owner=boss)
    milton = services.user_create(email="milton@initech.example", password=PASSWORD, email_verified=True)
    services.role_add(actor=boss, space=Space(initech), user=milton, roles=[Role.REGISTRY_READ])
    sso.provider_configure(
        org=initech, actor=boss, issuer=oidc_provider.issuer, client_id=oidc.CLIENT_ID, client_secret=oidc.CLIENT_SECRET,
        domains=["initech.example"], allow_owner_password=True,
    )
    owner_client, member_client = Client(), Client()
    owner_client.post("/accounts/signin", {"email": boss.email, "password": PASSWORD})
    member_client.post("/accounts/signin", {"email": milton.email, "password": PASSWORD})
    assert owner_client.session["_auth_user_id"] == str(boss.pk)
    assert "_auth_user_id" not in member_client.session


def test_an_existing_password_account_is_linked_on_its_first_sso_sign_in(personas, acme_sso):
    user = services.user_create(email="pat@acme.example", password=PASSWORD, email_verified=True)
    services.role_add(actor=personas.owner, space=personas.acme_space, user=user, roles=[Role.REGISTRY_READ])
    client = Client()
    landed, _ = sso_sign_in(client, "pat@acme.example")
    assert landed.status_code == 302, landed.content[:500]
    assert client.session["_auth_user_id"] == str(user.pk)
    assert SsoIdentity.objects.get(provider=acme_sso).user == user
    assert User.objects.filter(email="pat@acme.example").count() == 1


def test_an_sso_user_generates_an_api_key_that_works_at_token(personas, acme_sso):
    invite(personas, "keys@acme.example")
    client = Client()
    sso_sign_in(client, "keys@acme.example")
    user = User.objects.get(email="keys@acme.example")
    onboard(user)
    key = services.api_key_generate(user=user)
    response = Client().get(
        "/token", {"service": "ngc", "scope": "group/ngc:acme/alpha"},
        HTTP_AUTHORIZATION=basic_auth(key),
    )
    assert response.status_code == 200 and response.json()["token"]


# --- refusals ------------------------------------------------------------------------------------


def test_it_refuses_a_replayed_state(personas, acme_sso):
    invite(personas, "new@acme.example")
    client = Client()
    landed, callback = sso_sign_in(client, "new@acme.example")
    assert landed.status_code == 302
    parsed = urlparse(callback)
    replay = client.get(f"{parsed.path}?{parsed.query}")
    assert replay.status_code == 403 and b"already used" in replay.content
    # Nor in another browser that never started the sign-in.
    assert Client().get(f"{parsed.path}?{parsed.query}").status_code == 403


def test_it_refuses_a_wrong_nonce_at_the_callback(personas, acme_sso):
    invite(personas, "new@acme.example")
    client = Client()
    started = client.post("/accounts/signin", {"email": "new@acme.example"})
    session = client.session
    pending = session[SESSION_PENDING]
    for value in pending.values():
        value["nonce"] = "not-the-nonce-sent"
    session[SESSION_PENDING] = pending
    session.save()
    landed, _ = through_provider(client, started, "new@acme.example")
    assert landed.status_code == 403 and b"nonce" in landed.content
    assert not User.objects.filter(email="new@acme.example").exists()


def test_it_validates_a_genuine_id_token(acme_sso, oidc_provider):
    claims = sso.id_token_claims(provider=acme_sso, metadata=sso.discover(acme_sso), id_token=provider_token(oidc_provider), nonce="n-1")
    assert claims["sub"] == "new@acme.example" and claims["aud"] == oidc.CLIENT_ID


def test_it_refuses_a_tampered_id_token(acme_sso, oidc_provider):
    header, payload, signature = provider_token(oidc_provider).split(".")
    forged = minted(oidc_provider)  # same provider, other claims: splice its payload under the old signature
    tampered = ".".join([header, forged.split(".")[1], signature])
    with pytest.raises(AccessDenied, match="signature"):
        sso.id_token_claims(provider=acme_sso, metadata=sso.discover(acme_sso), id_token=tampered, nonce="n-1")


def test_it_refuses_an_id_token_signed_by_another_key(acme_sso, oidc_provider):
    from joserfc.jwk import KeySet, RSAKey

    stranger = KeySet([RSAKey.generate_key(2048, parameters={"kid": "test-signing-key"})])
    token = jwt.encode({"alg": "RS256", "kid": "test-signing-key"}, {"iss": oidc_provider.issuer}, stranger)
    with pytest.raises(AccessDenied, match="signature"):
        sso.id_token_claims(provider=acme_sso, metadata=sso.discover(acme_sso), id_token=token, nonce="n-1")


def test_it_refuses_an_expired_id_token(acme_sso, oidc_provider):
    past = int(time.time()) - 3600
    with pytest.raises(AccessDenied, match="exp"):
        sso.id_token_claims(
            provider=acme_sso, metadata=sso.discover(acme_sso), id_token=minted(oidc_provider, iat=past - 600, exp=past), nonce="n-1"
        )


def test_it_refuses_an_id_token_for_another_audience(acme_sso, oidc_provider):
    token = provider_token(oidc_provider, client_id=oidc.OTHER_CLIENT_ID)
    with pytest.raises(AccessDenied, match="aud"):
        sso.id_token_claims(provider=acme_sso, metadata=sso.discover(acme_sso), id_token=token, nonce="n-1")


def test_it_refuses_an_id_token_from_another_issuer(acme_sso, oidc_provider):
    with pytest.raises(AccessDenied, match="iss"):
        sso.id_token_claims(
            provider=acme_sso, metadata=sso.discover(acme_sso), id_token=minted(oidc_provider, iss="https://evil.example"), nonce="n-1"
        )


def test_it_refuses_a_user_removed_from_the_org_even_though_the_provider_authenticates_them(personas, acme_sso):
    invite(personas, "leaver@acme.example")
    sso_sign_in(Client(), "leaver@acme.example")
    leaver = User.objects.get(email="leaver@acme.example")
    services.member_remove(actor=personas.owner, space=personas.alpha_space, user=leaver)
    client = Client()
    landed, _ = sso_sign_in(client, "leaver@acme.example")
    assert landed.status_code == 403 and b"not a member of Acme Corp" in landed.content
    assert "_auth_user_id" not in client.session


def test_it_refuses_someone_with_no_account_and_no_invitation(personas, acme_sso):
    landed, _ = sso_sign_in(Client(), "stranger@acme.example")
    assert landed.status_code == 403 and b"no pending invitation" in landed.content
    assert not User.objects.filter(email="stranger@acme.example").exists()


def test_it_refuses_an_address_the_provider_has_not_verified(personas, acme_sso):
    invite(personas, "unverified.kim@acme.example")
    landed, _ = sso_sign_in(Client(), "unverified.kim@acme.example")
    assert landed.status_code == 403 and b"not verified" in landed.content
    assert not User.objects.filter(email="unverified.kim@acme.example").exists()


def test_a_provider_that_is_down_gives_a_clear_page_not_a_500(personas, monkeypatch):
    sso.provider_configure(
        org=personas.acme, actor=personas.owner, issuer=f"http://127.0.0.1:{free_port()}", client_id="x",
        client_secret="y", domains=["acme.example"],
    )
    response = Client().post("/accounts/signin", {"email": "anyone@acme.example"})
    assert response.status_code == 503
    assert b"Single sign-on is unavailable" in response.content and b"could not be reached" in response.content


# --- configuration -----------------------------------------------------------------------------


def test_a_domain_maps_to_one_org_at_most(personas, acme_sso, oidc_provider):
    with pytest.raises(Conflict, match="already mapped"):
        sso.provider_configure(
            org=personas.globex, actor=personas.outsider, issuer=oidc_provider.issuer, client_id="g", client_secret="s",
            domains=["ACME.example"],
        )
    other = SsoProvider.objects.create(org=personas.globex, issuer=oidc_provider.issuer, client_id="g")
    with pytest.raises(IntegrityError), transaction.atomic():
        SsoDomain.objects.create(provider=other, domain="acme.example")


def test_the_client_secret_is_stored_encrypted(personas, oidc_provider):
    provider = sso.provider_configure(
        org=personas.acme, actor=personas.owner, issuer=oidc_provider.issuer, client_id="c", client_secret="s3cret-value",
        domains=["acme.example"],
    )
    provider.refresh_from_db()
    assert "s3cret-value" not in provider.client_secret_encrypted and provider.client_secret_env == ""
    assert sso.client_secret(provider) == "s3cret-value"


def test_only_the_org_owner_configures_single_sign_on(personas, acme_sso):
    url = "/org/acme/settings/sso"
    onboard(personas.owner, personas.org_user_admin, personas.outsider)
    assert client_for(personas.owner, personas.acme_space).get(url).status_code == 200
    assert client_for(personas.org_user_admin, personas.acme_space).get(url).status_code == 403
    assert client_for(personas.outsider, personas.globex_space).get(url).status_code == 404
    with pytest.raises(AccessDenied):
        sso.provider_configure(
            org=personas.acme, actor=personas.org_user_admin, issuer=acme_sso.issuer, client_id="x", domains=["acme.example"]
        )


def test_the_settings_page_saves_and_tests_the_connection(personas, oidc_provider):
    onboard(personas.owner)
    client = client_for(personas.owner, personas.acme_space)
    response = client.post("/org/acme/settings/sso", {
        "action": "save", "issuer": oidc_provider.issuer, "client_id": oidc.CLIENT_ID, "client_secret": oidc.CLIENT_SECRET,
        "scopes": "openid email profile", "domains": "acme.example\nacme-labs.example",
    })
    assert response.status_code == 302, response.content[:2000]
    assert set(SsoDomain.objects.values_list("domain", flat=True)) == {"acme.example", "acme-labs.example"}
    response = client.post("/org/acme/settings/sso", {"action": "test"})
    assert b"Connection works" in response.content and b"Signing keys: 1 (RSA)" in response.content
    assert b"/accounts/sso/callback" in response.content


def test_the_management_command_configures_and_tests_a_provider(personas, oidc_provider, monkeypatch, capsys):
    monkeypatch.setenv("ACME_OIDC_SECRET", oidc.CLIENT_SECRET)
    call_command(
        "sso", "acme", "--issuer", oidc_provider.issuer, "--client-id", oidc.CLIENT_ID,
        "--client-secret-env", "ACME_OIDC_SECRET", "--domain", "acme.example", "--test",
    )
    out = capsys.readouterr().out
    assert "acme signs in acme.example" in out and f"Issuer: {oidc_provider.issuer}" in out
    assert SsoProvider.objects.get(org=personas.acme).client_secret_env == "ACME_OIDC_SECRET"


def test_signing_out_ends_the_session_and_offers_the_providers_sign_out(personas, acme_sso):
    invite(personas, "bye@acme.example")
    client = Client()
    sso_sign_in(client, "bye@acme.example")
    response = client.post("/accounts/signout")
    assert "_auth_user_id" not in client.session
    assert response.status_code == 200 and b"Also sign out of single sign-on" in response.content
    end_session = response.context["end_session_url"]
    assert end_session.startswith(f"{acme_sso.issuer}/session/end?id_token_hint=")
    assert requests.get(end_session, timeout=5).status_code == 200


def test_it_refuses_a_code_the_provider_did_not_issue(personas, acme_sso):
    invite(personas, "new@acme.example")
    client = Client()
    started = client.post("/accounts/signin", {"email": "new@acme.example"})
    state = parse_qs(urlparse(started["Location"]).query)["state"][0]
    response = client.get("/accounts/sso/callback", {"code": "forged-code", "state": state})
    assert response.status_code == 403 and b"invalid_grant" in response.content
    assert "_auth_user_id" not in client.session


def test_it_shows_the_providers_own_refusal(personas, acme_sso):
    client = Client()
    started = client.post("/accounts/signin", {"email": "new@acme.example"})
    state = parse_qs(urlparse(started["Location"]).query)["state"][0]
    response = client.get("/accounts/sso/callback", {"error": "access_denied", "error_description": "End-User aborted interaction", "state": state})
    assert response.status_code == 403 and b"End-User aborted interaction" in response.content


def test_a_user_removed_from_the_org_but_member_of_another_is_signed_in_without_access_to_it(personas, acme_sso):
    invite(personas, "mover@acme.example")
    sso_sign_in(Client(), "mover@acme.example")
    mover = User.objects.get(email="mover@acme.example")
    services.role_add(actor=personas.outsider, space=personas.globex_space, user=mover, roles=[Role.REGISTRY_READ])
    services.member_remove(actor=personas.owner, space=personas.alpha_space, user=mover)
    client = Client()
    landed, _ = sso_sign_in(client, "mover@acme.example")
    assert landed.status_code == 302 and client.session["_auth_user_id"] == str(mover.pk)
    onboard(mover)
    session = client.session
    session[SESSION_ORG] = "globex"  # as chosen on "Set your organization", where acme is no longer offered
    session.save()
    assert client.get("/org/acme/team/alpha/users").status_code == 404
    assert client.get("/dashboard").status_code == 200  # working in globex


def test_it_refuses_an_answer_naming_another_issuer(personas, acme_sso):
    invite(personas, "new@acme.example")
    client = Client()
    started = client.post("/accounts/signin", {"email": "new@acme.example"})
    callback = urlparse(oidc.log_in(started["Location"], "new@acme.example"))
    query = {key: values[0] for key, values in parse_qs(callback.query).items()}
    response = client.get(callback.path, {**query, "iss": "https://evil.example"})
    assert response.status_code == 403 and b"another provider" in response.content
    assert not User.objects.filter(email="new@acme.example").exists()
