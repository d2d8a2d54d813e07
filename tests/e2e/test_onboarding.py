"""The whole onboarding story in a real browser (guide 2.2.2, 2.3, 2.4.3), end to end:

the org owner invites a user from the Users page → a real Celery worker e-mails the invitation →
the invitee creates an account from the link, verifies the e-mail, sets preferences and the
org/team → generates an API key → the key is exchanged at /token and works on the NGC API.
"""
import re

import pytest
import requests

from tests.e2e.browser import chromium
from tests.support.personas import PASSWORD

NEW_EMAIL = "river.song@example.test"
NEW_PASSWORD = "tardis-blue-box-1963"


def link_in(mailbox, message, path: str) -> str:
    match = re.search(r"https://\S+" + re.escape(path) + r"\S+", mailbox.text_of(message))
    assert match, mailbox.text_of(message)
    return match.group(0)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_an_invited_user_onboards_in_the_browser_and_uses_their_api_key(
    personas, live_server_https, celery_worker, mailbox, camera
):
    from playwright.sync_api import expect

    base = live_server_https.url

    with chromium() as browser:
        # --- the owner invites a new user (guide 2.4.3) --------------------------------------
        owner = browser.new_context(ignore_https_errors=True).new_page()
        owner.goto(f"{base}/")
        expect(owner.get_by_role("heading", name="Sign in")).to_be_visible()
        camera.shoot(owner, "sign-in")
        owner.get_by_label("E-mail").fill(personas.owner.email)
        owner.get_by_role("button", name="Continue").click()  # step 1: the e-mail alone
        expect(owner.get_by_label("E-mail")).to_have_value(personas.owner.email)
        camera.shoot(owner, "sign-in-password")
        owner.get_by_label("Password").fill(PASSWORD)
        owner.get_by_role("button", name="Sign in").click()
        # The owner has not chosen communication preferences yet: the gate asks first.
        expect(owner.get_by_role("heading", name="Almost done!")).to_be_visible()
        camera.shoot(owner, "owner-preferences")
        owner.get_by_role("button", name="Submit").click()
        expect(owner.get_by_role("heading", name="Set your organization")).to_be_visible()
        owner.get_by_label("Organization").select_option("acme")
        camera.shoot(owner, "owner-set-organization")
        owner.get_by_role("button", name="Continue").click()
        expect(owner.get_by_role("heading", name=re.compile("Welcome"))).to_be_visible()
        camera.shoot(owner, "owner-dashboard")

        owner.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
        expect(owner.get_by_role("heading", name="Users", exact=True)).to_be_visible()
        camera.shoot(owner, "owner-users")
        owner.get_by_role("link", name="Invite New User").click()
        owner.get_by_label("Display name").fill("River Song")
        owner.get_by_label("E-mail").fill(NEW_EMAIL)
        camera.shoot(owner, "invite-step-1")
        owner.get_by_role("button", name="Next").click()
        expect(owner.get_by_text("2. Membership")).to_be_visible()
        owner.get_by_label("Team", exact=True).select_option("alpha")
        owner.locator("input[name=team_roles][value=REGISTRY_USER]").check()
        camera.shoot(owner, "invite-step-2-membership")
        owner.get_by_role("button", name="Confirm").click()
        expect(owner.get_by_text(f"Invitation sent to {NEW_EMAIL}.")).to_be_visible()
        expect(owner.get_by_role("cell", name=NEW_EMAIL, exact=True)).to_be_visible()
        # a pending invitation can be resent or revoked from its row
        expect(owner.get_by_role("button", name=f"Resend the invitation to {NEW_EMAIL}")).to_be_visible()
        camera.shoot(owner, "owner-users-pending-invitation")

        # --- the invitee follows the e-mailed link (guide 2.2.2) ------------------------------
        invitation_mail = mailbox.wait_for(to=NEW_EMAIL, subject_contains="invited", timeout=60)
        invitation_link = link_in(mailbox, invitation_mail, "/accounts/invitations/")
        assert invitation_link.startswith(base)

        invitee = browser.new_context(ignore_https_errors=True).new_page()
        invitee.goto(invitation_link)
        expect(invitee.get_by_role("heading", name="Create your account")).to_be_visible()
        expect(invitee.locator("#invited-email")).to_have_value(NEW_EMAIL)
        invitee.get_by_label("Full name").fill("River Song")
        invitee.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
        invitee.get_by_label("Confirm password").fill(NEW_PASSWORD)
        invitee.get_by_label("I agree to the Terms and Conditions").check()
        camera.shoot(invitee, "create-account")
        invitee.get_by_role("button", name="Create Account").click()
        expect(invitee.get_by_role("heading", name="Verify your e-mail")).to_be_visible()
        camera.shoot(invitee, "verify-your-email")

        verification_mail = mailbox.wait_for(to=NEW_EMAIL, subject_contains="Verify", timeout=60)
        invitee.goto(link_in(mailbox, verification_mail, "/accounts/verify-email/"))
        expect(invitee.get_by_role("heading", name="Almost done!")).to_be_visible()
        camera.shoot(invitee, "almost-done")
        invitee.get_by_label("Send me news about products, events and training").check()
        invitee.get_by_role("button", name="Submit").click()

        expect(invitee.get_by_role("heading", name="Set your organization")).to_be_visible()
        invitee.get_by_label("Organization").select_option("acme")
        invitee.get_by_label("Team", exact=True).select_option("acme/alpha")
        camera.shoot(invitee, "set-your-organization")
        invitee.get_by_role("button", name="Continue").click()
        expect(invitee.get_by_role("heading", name="Welcome, River Song")).to_be_visible()
        expect(invitee.get_by_text("Registry User")).to_be_visible()
        camera.shoot(invitee, "invitee-dashboard")

        # --- Setup → API Key (guide 2.3) ------------------------------------------------------
        invitee.locator("details.usermenu summary").click()
        invitee.get_by_role("link", name="API Key", exact=True).click()
        expect(invitee.get_by_role("heading", name="API Key")).to_be_visible()
        camera.shoot(invitee, "api-key-empty")
        invitee.get_by_role("link", name="Generate API Key").click()
        expect(invitee.get_by_role("heading", name="Generate a new API key?")).to_be_visible()
        camera.shoot(invitee, "api-key-confirm")
        invitee.get_by_role("button", name="Confirm").click()
        key_box = invitee.locator("#api-key")
        expect(key_box).to_be_visible()
        api_key = key_box.inner_text().strip()
        camera.shoot(invitee, "api-key-shown")
        invitee.get_by_role("button", name="Copy API key to clipboard").click()
        expect(invitee.get_by_role("button", name="Copy API key to clipboard")).to_have_text(re.compile("Copied|Copy"))

        # The team's Users page now lists the newcomer with the invited role.
        owner.goto(f"{base}/org/acme/team/alpha/users")
        expect(owner.get_by_role("cell", name=NEW_EMAIL, exact=True)).to_be_visible()
        camera.shoot(owner, "owner-alpha-users")

        # The link worked once: opening it again is a clear "already used" page.
        reused = browser.new_context(ignore_https_errors=True).new_page()
        assert reused.goto(invitation_link).status == 410
        expect(reused.get_by_text("This invitation has already been used.")).to_be_visible()
        camera.shoot(reused, "invitation-used-410")

    assert api_key.startswith("rk_")

    # --- the key works outside the browser: /token, then the NGC API ---------------------------
    # verify= on each call: the machine's REQUESTS_CA_BUNDLE would override a Session's verify.
    ca = live_server_https.ca_bundle
    response = requests.get(
        f"{base}/token", params={"service": "ngc", "scope": "group/ngc:acme"}, auth=("$oauthtoken", api_key),
        verify=ca, timeout=30,
    )
    assert response.status_code == 200, response.text
    token = response.json()["token"]
    me = requests.get(f"{base}/v2/users/me", headers={"Authorization": f"Bearer {token}"}, verify=ca, timeout=30)
    assert me.status_code == 200, me.text
    user = me.json()["user"]
    assert user["email"] == NEW_EMAIL
    assert user["name"] == "River Song"
    alpha_roles = [entry for entry in user["roles"] if entry.get("team", {}).get("name") == "alpha"]
    assert alpha_roles and alpha_roles[0]["org"]["name"] == "acme"
    assert alpha_roles[0]["teamRoles"] == ["REGISTRY_USER"]
    assert requests.get(f"{base}/token", params={"service": "ngc"}, auth=("$oauthtoken", "rk_wrong"),
                        verify=ca, timeout=30).status_code == 401
