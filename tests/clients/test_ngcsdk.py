"""NVIDIA's own client (`ngcsdk` 4.37.0, unmodified) against the live HTTPS server.

Each scenario runs in its own subprocess (tests/clients/ngcsdk_scenario.py) because the SDK reads
its environment once, at import.
"""
from pathlib import Path

import pytest

from accounts import services
from accounts.models import Invitation, RoleBinding, Team
from accounts.roles import Role
from tests.support.ngcsdk import run_scenario

pytestmark = [pytest.mark.clients, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_password_hashing")]

SCRIPT = Path(__file__).with_name("ngcsdk_scenario.py")


@pytest.fixture
def run_sdk(live_server_https, tmp_path):
    def run(scenario: str, **args) -> dict:
        return run_scenario(SCRIPT, scenario, args, server=live_server_https, workdir=tmp_path, timeout=180)

    return run


def test_an_org_admin_manages_teams_and_members_with_nvidias_client(run_sdk, personas, celery_worker, mailbox):
    key = services.api_key_generate(user=personas.owner)
    member = personas.org_registry_read
    sent_before = len(mailbox.messages)

    output = run_sdk("admin", key=key, team="alpha", member_id=member.pk, invitee="newcomer@example.test")

    assert output["ok"], output.get("traceback")
    result = output["result"]
    assert result["who"]["user"]["email"] == "owner@example.test"
    assert [org["name"] for org in result["orgs"]] == ["acme"]
    assert result["teams_before"] == ["alpha", "beta"]
    assert result["created_team"]["name"] == "gamma"
    assert result["team_info"]["description"] == "Team Gamma"
    assert result["teams_after"] == ["alpha", "beta", "gamma"]
    assert "org-registry-read@example.test" in result["org_users"]
    assert "alpha-registry-user@example.test" in result["alpha_users"]
    assert "beta-user@example.test" not in result["alpha_users"]
    beta_roles = [entry for entry in result["member_after"]["user"]["roles"] if entry.get("team", {}).get("name") == "beta"]
    assert beta_roles and beta_roles[0]["teamRoles"] == ["REGISTRY_READ"]
    assert [(i["email"], i["team"], i["roles"]) for i in result["pending"]] == [
        ("newcomer@example.test", "alpha", ["REGISTRY_USER"])
    ]

    assert Team.objects.filter(org=personas.acme, name="gamma", description="Team Gamma").exists()
    assert RoleBinding.objects.filter(user=member, team=personas.beta, role=Role.REGISTRY_READ).exists()
    invitation = Invitation.objects.get(email="newcomer@example.test")
    assert (invitation.team, invitation.team_roles, invitation.invited_by) == (personas.alpha, ["REGISTRY_USER"], personas.owner)
    mailbox.wait_for(to="newcomer@example.test", subject_contains="invited", since=sent_before)


def test_a_wrong_api_key_is_refused_by_nvidias_client(run_sdk, personas):
    services.api_key_generate(user=personas.owner)

    output = run_sdk("configure", key="rk_this-is-not-a-valid-key")

    assert not output["ok"]
    assert output["error_type"] == "ValueError"
    assert "Invalid apikey" in output["error"]


def test_nvidias_client_is_refused_an_org_it_does_not_belong_to(run_sdk, personas):
    key = services.api_key_generate(user=personas.outsider)

    output = run_sdk("configure", key=key, org="acme")

    assert not output["ok"]
    assert "Invalid org" in output["error"]


def test_a_read_only_member_lists_teams_but_nvidias_client_reports_the_refusal_to_create_one(run_sdk, personas):
    key = services.api_key_generate(user=personas.alpha_registry_read)

    output = run_sdk("reader", key=key)

    assert output["ok"], output.get("traceback")
    assert output["result"]["teams"] == ["alpha"]
    assert output["result"]["create"]["type"] == "AccessDeniedException"
    assert not Team.objects.filter(name="delta").exists()
