"""The portal's identity pages: who may open them, who is refused, and their form errors."""
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import Invitation, RoleBinding, Team
from accounts.roles import Role
from tests.support.personas import PASSWORD
from tests.support.web import client_for, onboard

pytestmark = pytest.mark.usefixtures("fast_password_hashing")


def users_url(org, team=None):
    return reverse("accounts:team-users", args=[org, team]) if team else reverse("accounts:org-users", args=[org])


def invite_url(org, team=None):
    return reverse("accounts:team-invite", args=[org, team]) if team else reverse("accounts:org-invite", args=[org])


# --- sign in, home, gate -----------------------------------------------------------------------


@pytest.mark.django_db
def test_home_sends_anonymous_visitors_to_sign_in():
    response = Client().get("/")
    assert response.status_code == 302 and response.url == reverse("accounts:signin")


@pytest.mark.django_db
def test_sign_in_leads_to_set_your_organization_then_the_dashboard(cast):
    client = Client()
    response = client.post(reverse("accounts:signin"), {"email": "OWNER@example.test", "password": PASSWORD})
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:set-organization"))
    page = client.get(response.url)
    assert b"Set your organization" in page.content
    assert b"acme" in page.content
    response = client.post(reverse("accounts:set-organization") + "?next=/dashboard", {"org": "acme", "team": "acme/alpha"})
    assert response.status_code == 302 and response.url == "/dashboard"
    dashboard = client.get("/dashboard")
    assert dashboard.status_code == 200
    assert b"Org Owner" in dashboard.content


@pytest.mark.django_db
def test_sign_in_rejects_a_wrong_password_and_an_unknown_e_mail(cast):
    client = Client()
    for email, password in (("owner@example.test", "wrong"), ("nobody@example.test", PASSWORD)):
        response = client.post(reverse("accounts:signin"), {"email": email, "password": password})
        assert response.status_code == 200
        assert b"Incorrect e-mail or password." in response.content


@pytest.mark.django_db
def test_set_your_organization_refuses_a_team_of_another_org(cast):
    client = client_for(cast.owner)
    response = client.post(reverse("accounts:set-organization"), {"org": "acme", "team": "globex/alpha"})
    assert response.status_code == 200
    assert b"Select a valid choice" in response.content or b"not in the organization" in response.content


@pytest.mark.django_db
def test_sign_out_needs_a_post(cast):
    client = client_for(cast.owner, cast.acme_space)
    assert client.get(reverse("accounts:signout")).status_code == 405
    assert client.post(reverse("accounts:signout")).status_code == 302
    assert client.get("/dashboard").status_code == 302


@pytest.mark.django_db
def test_the_gate_sends_people_to_their_next_activation_step(cast):
    owner = cast.owner
    owner.preferences_completed = False
    owner.save(update_fields=["preferences_completed"])
    client = client_for(owner, cast.acme_space)
    assert client.get("/dashboard").url == reverse("accounts:preferences")
    owner.email_verified = False
    owner.save(update_fields=["email_verified"])
    assert client.get("/dashboard").url == reverse("accounts:verify-email-sent")
    onboard(owner)
    owner.email_verified = True
    owner.save(update_fields=["email_verified"])
    no_space = client_for(owner)
    assert no_space.get("/dashboard").url.startswith(reverse("accounts:set-organization"))


@pytest.mark.django_db
def test_the_switcher_changes_the_current_space_and_refuses_foreign_ones(cast):
    client = client_for(cast.owner, cast.acme_space)
    response = client.post(reverse("accounts:switch-space"), {"space": "acme/beta", "next": "/org/acme/users"})
    assert response.url == reverse("accounts:users")
    assert client.get(reverse("accounts:users")).url == users_url("acme", "beta")
    page = client.get("/dashboard")
    assert b"beta" in page.content
    response = client.post(reverse("accounts:switch-space"), {"space": "globex", "next": "/dashboard"}, follow=True)
    assert b"not found" in response.content
    assert client.session["current_org"] == "acme"


@pytest.mark.django_db
def test_the_top_bar_lists_the_orgs_and_teams_one_can_switch_to(cast):
    page = client_for(cast.alpha_registry_user, cast.alpha_space).get("/dashboard").content.decode()
    assert 'value="acme/alpha"' in page
    assert 'value="acme/beta"' not in page
    assert 'value="globex"' not in page
    assert "Containers" in page and "Helm Charts" in page and "API Key" in page


@pytest.mark.django_db
def test_the_left_nav_links_the_models_and_resources_pages(cast):
    client = client_for(cast.org_registry_read, cast.acme_space)
    for name in ("models", "resources"):
        response = client.get(reverse(f"versioned:{name}"))
        assert response.status_code == 200 and b"Coming soon" not in response.content
        assert f'href="{reverse(f"versioned:{name}")}" aria-current="page"'.encode() in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("persona, space", [("alpha_registry_read", "alpha_space"), ("org_registry_read", "acme_space")])
def test_a_registry_read_user_is_offered_no_link_that_answers_403(cast, persona, space):
    client = client_for(getattr(cast, persona), getattr(cast, space))
    page = client.get(reverse("accounts:dashboard")).content.decode()
    assert f'href="{reverse("accounts:users")}"' not in page and "<h2>Users</h2>" not in page
    assert f'href="{reverse("registry:hub")}"' not in page
    assert client.get(reverse("accounts:users"), follow=True).status_code == 403  # what the link would answer
    catalog = client.get(reverse("registry:catalog")).content.decode()
    assert "Create…" not in catalog


@pytest.mark.django_db
def test_the_owner_is_offered_users_and_create(cast):
    page = client_for(cast.owner, cast.acme_space).get(reverse("accounts:dashboard")).content.decode()
    assert f'href="{reverse("accounts:users")}"' in page and "<h2>Users</h2>" in page
    assert f'href="{reverse("registry:hub")}"' in page


# --- users ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_users_page_lists_members_with_their_roles(cast):
    response = client_for(cast.owner, cast.acme_space).get(users_url("acme"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "org-registry-read@example.test" in page and "alpha-user-admin@example.test" in page
    assert "alpha: User Admin" in page and "Org Owner" in page
    assert "Invite New User" in page and "Edit Membership" in page


@pytest.mark.django_db
def test_a_registry_read_user_is_refused_the_users_page_and_invitations(cast):
    client = client_for(cast.org_registry_read, cast.acme_space)
    response = client.get(users_url("acme"))
    assert response.status_code == 403 and b"permission" in response.content
    assert client.get(invite_url("acme")).status_code == 403
    assert client.post(invite_url("acme"), {"step": "details", "name": "X", "email": "x@example.test"}).status_code == 403


@pytest.mark.django_db
def test_a_user_read_member_sees_users_without_management_buttons(cast):
    client = client_for(cast.org_user_read, cast.acme_space)
    page = client.get(users_url("acme")).content.decode()
    assert "owner@example.test" in page
    assert "Invite New User" not in page and "Edit Membership" not in page and "Remove" not in page
    assert client.get(invite_url("acme")).status_code == 403
    member = cast.org_registry_read
    edit = reverse("accounts:org-member-edit", args=["acme", member.pk])
    assert client.post(edit, {"roles": [Role.REGISTRY_ADMIN]}).status_code == 403
    remove = reverse("accounts:org-member-remove", args=["acme", member.pk])
    assert client.post(remove).status_code == 403
    assert RoleBinding.objects.filter(user=member, org=cast.acme).exists()


@pytest.mark.django_db
def test_an_outsider_gets_404_for_acme_pages(cast):
    client = client_for(cast.outsider, cast.globex_space)
    for url in (
        users_url("acme"), users_url("acme", "alpha"), invite_url("acme"),
        reverse("accounts:org-teams", args=["acme"]), reverse("accounts:team-create", args=["acme"]),
        reverse("accounts:team-detail", args=["acme", "alpha"]), reverse("accounts:team-add-user", args=["acme", "alpha"]),
        reverse("accounts:org-member-edit", args=["acme", cast.owner.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"not found" in response.content


@pytest.mark.django_db
def test_another_team_member_gets_404_for_alpha(cast):
    client = client_for(cast.beta_user, cast.beta_space)
    assert client.get(reverse("accounts:team-detail", args=["acme", "alpha"])).status_code == 404
    assert client.get(users_url("acme", "alpha")).status_code == 404


@pytest.mark.django_db
def test_inviting_takes_two_steps_and_offers_only_grantable_roles(cast):
    client = client_for(cast.org_user_admin, cast.acme_space)
    step2 = client.post(invite_url("acme"), {"step": "details", "name": "New Person", "email": "New@Example.test"})
    page = step2.content.decode()
    assert step2.status_code == 200 and "Membership" in page
    assert 'value="USER_ADMIN"' in page and 'value="REGISTRY_ADMIN"' not in page
    response = client.post(invite_url("acme"), {
        "step": "membership", "name": "New Person", "email": "new@example.test", "team": "alpha", "team_roles": ["USER_ADMIN"],
    })
    assert response.status_code == 302 and response.url == users_url("acme")
    invitation = Invitation.objects.get(email="new@example.test")
    assert invitation.team == cast.alpha and invitation.team_roles == ["USER_ADMIN"]
    pending = client.get(users_url("acme")).content.decode()
    assert "new@example.test" in pending and "alpha: User Admin" in pending


@pytest.mark.django_db
def test_re_inviting_a_member_says_so_and_offers_edit_membership_instead(cast):
    client = client_for(cast.owner, cast.acme_space)
    member = cast.alpha_registry_read
    for step in ("details", "membership"):
        response = client.post(invite_url("acme"), {
            "step": step, "name": "Again", "email": member.email.upper(), "org_roles": ["REGISTRY_READ"],
        })
        page = response.content.decode()
        assert response.status_code == 200 and "is already a member of acme" in page, step
        assert reverse("accounts:org-member-edit", args=["acme", member.pk]) in page and "Edit Membership" in page
    assert not Invitation.objects.filter(email__iexact=member.email).exists()


@pytest.mark.django_db
def test_a_pending_invitation_can_be_resent_and_revoked(cast, django_capture_on_commit_callbacks):
    invitation = services.invitation_create(
        actor=cast.owner, org=cast.acme, email="late@example.test", org_roles=["REGISTRY_READ"],
    )
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() + timedelta(hours=1))
    client = client_for(cast.owner, cast.acme_space)
    page = client.get(users_url("acme")).content.decode()
    resend = reverse("accounts:org-invitation-action", args=["acme", invitation.pk, "resend"])
    revoke = reverse("accounts:org-invitation-action", args=["acme", invitation.pk, "revoke"])
    assert f'action="{resend}"' in page and f'action="{revoke}"' in page
    with django_capture_on_commit_callbacks() as callbacks:
        assert client.post(resend).status_code == 302
    assert len(callbacks) == 1  # the e-mail is queued again
    invitation.refresh_from_db()
    assert invitation.expires_at > timezone.now() + timedelta(days=1)
    assert client.get(resend).status_code == 404  # only POST changes anything
    reader = client_for(cast.org_registry_read, cast.acme_space)
    assert reader.post(revoke).status_code == 403
    assert client.post(revoke).status_code == 302
    assert not Invitation.objects.filter(pk=invitation.pk).exists()
    after = client.get(users_url("acme")).content.decode()
    assert "Revoked the invitation to late@example.test." in after and "No pending invitations." in after


@pytest.mark.django_db
def test_inviting_refuses_a_role_the_actor_does_not_hold(cast):
    client = client_for(cast.alpha_user_admin, cast.alpha_space)
    response = client.post(invite_url("acme", "alpha"), {
        "step": "membership", "name": "X", "email": "x@example.test", "team": "alpha", "team_roles": ["REGISTRY_ADMIN"],
    })
    assert response.status_code == 200
    assert b"REGISTRY_ADMIN is not one of the available choices" in response.content
    assert not Invitation.objects.filter(email="x@example.test").exists()


@pytest.mark.django_db
def test_inviting_needs_a_valid_e_mail_and_at_least_one_role(cast):
    client = client_for(cast.owner, cast.acme_space)
    response = client.post(invite_url("acme"), {"step": "details", "name": "X", "email": "not-an-email"})
    assert b"Enter a valid email address." in response.content
    response = client.post(invite_url("acme"), {"step": "membership", "name": "X", "email": "x@example.test"})
    assert b"Assign at least one organization role or team role." in response.content


@pytest.mark.django_db
def test_edit_membership_replaces_roles_and_keeps_ungrantable_ones(cast):
    member = cast.alpha_registry_read
    services.role_add(actor=cast.owner, space=cast.alpha_space, user=member, roles=[Role.REGISTRY_USER])
    client = client_for(cast.alpha_user_admin, cast.alpha_space)
    url = reverse("accounts:team-member-edit", args=["acme", "alpha", member.pk])
    page = client.get(url).content.decode()
    assert "Kept" in page and "Registry Read" in page
    response = client.post(url, {"roles": ["USER_ADMIN"]})
    assert response.status_code == 302
    assert set(services.member_roles(user=member, space=cast.alpha_space)) == {Role.REGISTRY_READ, Role.REGISTRY_USER, Role.USER_ADMIN}
    response = client.post(url, {"roles": ["REGISTRY_ADMIN"]})
    assert b"REGISTRY_ADMIN is not one of the available choices" in response.content


@pytest.mark.django_db
def test_removing_a_member_asks_for_confirmation_then_removes(cast):
    member = cast.org_registry_user
    client = client_for(cast.owner, cast.acme_space)
    url = reverse("accounts:org-member-remove", args=["acme", member.pk])
    page = client.get(url)
    assert page.status_code == 200 and b"Remove" in page.content
    assert RoleBinding.objects.filter(user=member).exists()
    assert client.post(url).status_code == 302
    assert not RoleBinding.objects.filter(user=member, org=cast.acme).exists()


@pytest.mark.django_db
def test_the_org_owner_cannot_be_removed(cast):
    client = client_for(cast.org_user_admin, cast.acme_space)
    response = client.post(reverse("accounts:org-member-remove", args=["acme", cast.owner.pk]))
    assert response.status_code == 200 and b"cannot be removed" in response.content


@pytest.mark.django_db
def test_the_users_page_stays_flat_in_queries_as_members_grow(cast, django_assert_max_num_queries):
    client = client_for(cast.owner, cast.acme_space)
    client.get(users_url("acme"))  # warm caches (content types, session)
    with django_assert_max_num_queries(12) as small:
        assert client.get(users_url("acme")).status_code == 200
    for i in range(30):
        user = services.user_create(email=f"extra{i}@example.test", name=f"Extra {i}", password=PASSWORD, email_verified=True)
        services.member_bootstrap(org=cast.acme, user=user, role=Role.REGISTRY_READ)
        services.member_bootstrap(org=cast.acme, user=user, role=Role.REGISTRY_USER, team=cast.alpha)
    with django_assert_max_num_queries(len(small.captured_queries)) as large:
        page = client.get(users_url("acme"))
    assert b"extra29@example.test" in page.content
    assert len(large.captured_queries) == len(small.captured_queries)


# --- teams ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_teams_page_lists_visible_teams(cast):
    page = client_for(cast.owner, cast.acme_space).get(reverse("accounts:org-teams", args=["acme"])).content.decode()
    assert "alpha" in page and "beta" in page and "Create Team" in page
    page = client_for(cast.alpha_registry_user, cast.alpha_space).get(reverse("accounts:org-teams", args=["acme"])).content.decode()
    assert "alpha" in page and ">beta<" not in page and "Create Team" not in page


@pytest.mark.django_db
def test_creating_a_team(cast):
    client = client_for(cast.owner, cast.acme_space)
    response = client.post(reverse("accounts:team-create", args=["acme"]), {"name": "gamma", "description": "G"})
    assert response.status_code == 302 and response.url == reverse("accounts:team-detail", args=["acme", "gamma"])
    assert Team.objects.filter(org=cast.acme, name="gamma").exists()
    page = client.get(response.url)
    assert page.status_code == 200 and b"Active Members" in page.content


@pytest.mark.django_db
def test_team_names_must_be_lowercase_and_unique(cast):
    client = client_for(cast.owner, cast.acme_space)
    url = reverse("accounts:team-create", args=["acme"])
    response = client.post(url, {"name": "Gamma"})
    assert response.status_code == 200
    assert b"Team names must be all lowercase: use &#x27;gamma&#x27;." in response.content
    response = client.post(url, {"name": "alpha"})
    assert b"Team &#x27;alpha&#x27; already exists in org &#x27;acme&#x27;." in response.content
    assert not Team.objects.filter(name__iexact="gamma").exists()


@pytest.mark.django_db
def test_the_team_form_suggests_only_names_the_rule_accepts(cast):
    client = client_for(cast.owner, cast.acme_space)
    url = reverse("accounts:team-create", args=["acme"])
    form = client.get(url).content.decode()
    assert 'placeholder="vision-team"' in form and "for example vision-team" in form
    assert services.team_create(org=cast.acme, actor=cast.owner, name="vision-team")  # the hint is valid
    refused = client.post(url, {"name": "Speech Team"}).content.decode()
    assert "for example &#x27;speech-team&#x27;" in refused and "use &#x27;speech team&#x27;" not in refused
    assert not Team.objects.filter(name__icontains="speech").exists()


@pytest.mark.django_db
def test_a_registry_read_user_cannot_create_a_team(cast):
    client = client_for(cast.org_registry_read, cast.acme_space)
    teams_page = client.get(reverse("accounts:org-teams", args=["acme"]))
    assert b"Create Team" not in teams_page.content
    response = client.post(reverse("accounts:team-create", args=["acme"]), {"name": "gamma"})
    assert response.status_code == 403
    assert not Team.objects.filter(name="gamma").exists()


@pytest.mark.django_db
def test_adding_an_org_member_to_a_team(cast):
    client = client_for(cast.owner, cast.acme_space)
    url = reverse("accounts:team-add-user", args=["acme", "beta"])
    page = client.get(url).content.decode()
    assert 'list="org-members"' in page and "org-registry-read@example.test" in page
    response = client.post(url, {"email": "org-registry-read@example.test", "role": "REGISTRY_USER"})
    assert response.status_code == 302
    assert RoleBinding.objects.filter(user=cast.org_registry_read, team=cast.beta, role=Role.REGISTRY_USER).exists()
    detail = client.get(response.url).content.decode()
    assert "org-registry-read@example.test" in detail


@pytest.mark.django_db
def test_the_add_user_picker_offers_org_members_not_in_the_team_and_registry_read_by_default(cast):
    page = client_for(cast.owner, cast.acme_space).get(reverse("accounts:team-add-user", args=["acme", "beta"])).content.decode()
    assert '<option value="REGISTRY_READ" selected>' in page
    assert f'<option value="{cast.org_registry_read.email}"' in page
    assert f'<option value="{cast.beta_user.email}"' not in page  # already in beta
    assert 'placeholder="name or e-mail"' in page


@pytest.mark.django_db
def test_adding_an_unknown_e_mail_to_a_team_is_a_form_error(cast):
    client = client_for(cast.owner, cast.acme_space)
    url = reverse("accounts:team-add-user", args=["acme", "beta"])
    response = client.post(url, {"email": "outsider@example.test", "role": "REGISTRY_USER"})
    assert response.status_code == 200
    assert b"No member of &#x27;acme&#x27; has the e-mail outsider@example.test" in response.content
    assert not RoleBinding.objects.filter(user=cast.outsider, org=cast.acme).exists()


@pytest.mark.django_db
def test_a_team_member_without_user_admin_cannot_add_users(cast):
    client = client_for(cast.alpha_registry_user, cast.alpha_space)
    detail = client.get(reverse("accounts:team-detail", args=["acme", "alpha"]))
    assert detail.status_code == 200 and b"Add User" not in detail.content
    response = client.post(reverse("accounts:team-add-user", args=["acme", "alpha"]), {"email": "org-registry-read@example.test", "role": "REGISTRY_USER"})
    assert response.status_code == 403
