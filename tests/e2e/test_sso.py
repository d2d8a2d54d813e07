"""Single sign-on end to end in a real browser (guide 2.2.1), against a real OpenID Connect
provider (npm's oidc-provider): the org owner maps acme.example to the provider on the portal and
tests the connection, invites new@acme.example; a real Celery worker e-mails the link; the link
opens the provider's login page; the invitee comes back into the portal with the invited roles
(no password, no verification e-mail), and the API key they generate works at /token.
"""
import re

import pytest
import requests

from tests.e2e.browser import chromium
from tests.support import oidc_provider as oidc
from tests.support.personas import PASSWORD

NEW_EMAIL = "new@acme.example"


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_an_invitee_of_a_mapped_domain_signs_in_at_the_provider_and_uses_their_api_key(
    personas, live_server_https, celery_worker, mailbox, oidc_provider, camera
):
    from playwright.sync_api import expect

    base = live_server_https.url

    with chromium() as browser:
        # --- the owner maps acme.example to the provider -----------------------------------------
        owner = browser.new_context(ignore_https_errors=True).new_page()
        owner.goto(f"{base}/")
        owner.get_by_label("E-mail").fill(personas.owner.email)
        owner.get_by_role("button", name="Continue").click()  # step 1: the e-mail alone
        owner.get_by_label("Password").fill(PASSWORD)
        owner.get_by_role("button", name="Sign in").click()
        owner.get_by_role("button", name="Submit").click()  # "Almost done!"
        owner.get_by_label("Organization").select_option("acme")
        owner.get_by_role("button", name="Continue").click()
        owner.get_by_role("navigation", name="Main").get_by_role("link", name="Single Sign-On").click()
        expect(owner.get_by_role("heading", name="Single Sign-On")).to_be_visible()
        expect(owner.get_by_text(f"{base}/accounts/sso/callback")).to_be_visible()
        owner.get_by_label("Issuer URL").fill(oidc_provider.issuer)
        owner.get_by_label("Client ID").fill(oidc.CLIENT_ID)
        owner.get_by_label("Client secret").fill(oidc.CLIENT_SECRET)
        owner.get_by_label("E-mail domains").fill("acme.example")
        camera.shoot(owner, "sso-settings-filled")
        owner.get_by_role("button", name="Save").click()
        expect(owner.get_by_text("Single sign-on settings saved.")).to_be_visible()
        owner.get_by_role("button", name="Test connection").click()
        expect(owner.get_by_text("Connection works")).to_be_visible()
        expect(owner.get_by_text(f"Issuer: {oidc_provider.issuer}")).to_be_visible()
        camera.shoot(owner, "sso-test-connection")

        # --- and invites new@acme.example to team alpha as Registry User -------------------------
        owner.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
        owner.get_by_role("link", name="Invite New User").click()
        owner.get_by_label("Display name").fill("New Person")
        owner.get_by_label("E-mail").fill(NEW_EMAIL)
        owner.get_by_role("button", name="Next").click()
        owner.get_by_label("Team", exact=True).select_option("alpha")
        owner.locator("input[name=team_roles][value=REGISTRY_USER]").check()
        owner.get_by_role("button", name="Confirm").click()
        expect(owner.get_by_text(f"Invitation sent to {NEW_EMAIL}.")).to_be_visible()

        # --- the e-mailed link opens the provider's sign-in page --------------------------------
        message = mailbox.wait_for(to=NEW_EMAIL, subject_contains="invited", timeout=60)
        link = re.search(r"https://\S+/accounts/invitations/\S+", mailbox.text_of(message)).group(0)
        invitee = browser.new_context(ignore_https_errors=True).new_page()
        invitee.goto(link)
        assert invitee.url.startswith(f"{oidc_provider.issuer}/interaction/"), invitee.url
        camera.shoot(invitee, "provider-login")
        invitee.locator("input[name=login]").fill(NEW_EMAIL)
        invitee.locator("input[name=password]").fill("whatever-the-provider-checks")
        invitee.get_by_role("button", name="Sign-in").click()

        # --- back in the portal: the guide's remaining steps, then the invited roles -------------
        expect(invitee.get_by_role("heading", name="Almost done!")).to_be_visible()
        assert invitee.url.startswith(base)
        camera.shoot(invitee, "back-in-portal-almost-done")
        invitee.get_by_role("button", name="Submit").click()
        expect(invitee.get_by_role("heading", name="Set your organization")).to_be_visible()
        invitee.get_by_label("Organization").select_option("acme")
        invitee.get_by_label("Team", exact=True).select_option("acme/alpha")
        invitee.get_by_role("button", name="Continue").click()
        expect(invitee.get_by_role("heading", name="Welcome, New")).to_be_visible()
        expect(invitee.get_by_text("Registry User")).to_be_visible()
        camera.shoot(invitee, "invitee-dashboard")

        invitee.locator("details.usermenu summary").click()
        invitee.get_by_role("link", name="API Key", exact=True).click()
        invitee.get_by_role("link", name="Generate API Key").click()
        invitee.get_by_role("button", name="Confirm").click()
        api_key = invitee.locator("#api-key").inner_text().strip()
        camera.shoot(invitee, "api-key")

        # --- sign-in asks for the e-mail first: a mapped domain goes to the provider, others to a password
        visitor = browser.new_context(ignore_https_errors=True).new_page()
        visitor.goto(f"{base}/accounts/signin?next=/teams")
        expect(visitor.get_by_label("Password")).to_have_count(0)
        camera.shoot(visitor, "sign-in-email-step")
        visitor.get_by_label("E-mail").fill(personas.org_registry_user.email)
        visitor.get_by_role("button", name="Continue").click()
        expect(visitor.get_by_label("E-mail")).to_have_value(personas.org_registry_user.email)
        expect(visitor.get_by_label("Password")).to_be_visible()
        camera.shoot(visitor, "sign-in-password-step")
        visitor.get_by_role("link", name="Use another e-mail").click()
        expect(visitor.get_by_label("Password")).to_have_count(0)
        visitor.get_by_label("E-mail").fill("someone@acme.example")
        visitor.get_by_role("button", name="Continue").click()
        expect(visitor.locator("input[name=login]")).to_be_visible()
        assert visitor.url.startswith(oidc_provider.issuer)
        camera.shoot(visitor, "sign-in-mapped-domain-at-provider")

        # --- signing out ends the portal session and offers the provider's -----------------------
        invitee.locator("details.usermenu summary").click()
        invitee.get_by_role("button", name="Sign out").click()
        expect(invitee.get_by_role("link", name="Also sign out of single sign-on")).to_be_visible()
        camera.shoot(invitee, "signed-out")

    ca = live_server_https.ca_bundle
    response = requests.get(
        f"{base}/token", params={"service": "ngc", "scope": "group/ngc:acme/alpha"}, auth=("$oauthtoken", api_key),
        verify=ca, timeout=30,
    )
    assert response.status_code == 200, response.text
    me = requests.get(f"{base}/v2/users/me", headers={"Authorization": f"Bearer {response.json()['token']}"}, verify=ca, timeout=30)
    user = me.json()["user"]
    assert user["email"] == NEW_EMAIL
    alpha_roles = [entry for entry in user["roles"] if entry.get("team", {}).get("name") == "alpha"]
    assert alpha_roles and alpha_roles[0]["teamRoles"] == ["REGISTRY_USER"]
