"""`ngc config|org|team|user` against the live server: outputs, exit codes and the server's state."""
import csv
import io
import json
import stat

import pytest

from accounts.models import Invitation, Team

pytestmark = [pytest.mark.clients, pytest.mark.django_db(transaction=True)]


def test_config_set_and_current(personas, ngc, key_of):
    key = key_of(personas.owner)
    done = ngc("config", "set", "--api-key", key, "--org", "acme", "--team", "alpha", "--format_type", "csv",
               "--url", ngc.server.url, org=None)
    assert done.returncode == 0, done.stderr
    path = ngc.home / ".ngc" / "config"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert "[CURRENT]" in text and f"apikey = {key}" in text and "org = acme" in text and "team = alpha" in text

    env = {"NGC_CLI_API_URL": ""}
    current = ngc("config", "current", org=None, env_extra=env)
    assert current.returncode == 0, current.stderr
    rows = list(csv.reader(io.StringIO(current.stdout)))
    assert rows[0] == ["key", "value", "source"]
    values = {row[0]: row[1] for row in rows[1:]}
    assert values["org"] == "acme" and values["team"] == "alpha" and values["apikey"].endswith(key[-4:])
    assert key not in current.stdout  # masked
    # The environment overrides the file.
    over = ngc("config", "current", org="globex", env_extra=env)
    assert "globex,NGC_CLI_ORG" in over.stdout

    # Interactive: answers piped on stdin, as with NVIDIA's client.
    ngc.home = ngc.home.parent / "other-home"
    asked = ngc("config", "set", org=None, stdin=f"{key}\njson\nacme\nno-team\n{ngc.server.url}\n")
    assert asked.returncode == 0, asked.stderr
    assert "Enter API key" in asked.stdout and "Choices: [ascii, csv, json]" in asked.stdout
    assert "format_type = json" in (ngc.home / ".ngc" / "config").read_text()
    # A wrong org is refused and nothing is written.
    bad = ngc("config", "set", "--org", "globex", org=None, env_extra={"NGC_CLI_API_KEY": key})
    assert bad.returncode != 0 and "globex" in bad.stderr and "Traceback" not in bad.stderr


def test_org_commands_of_the_guide(personas, ngc, key_of):
    key = key_of(personas.owner)
    created = ngc("org", "add-team", "team-a", "Team A", key=key)
    assert created.returncode == 0, created.stderr
    lines = created.stdout.splitlines()
    assert lines[0] == "Team created."
    assert lines[2] == " Team Information" and " Name: team-a" in lines and " Description: Team A" in lines
    assert " Deleted: False" in lines and lines[1].startswith("-----") and lines[-1].startswith("-----")
    assert Team.objects.filter(org=personas.acme, name="team-a").exists()

    invited = ngc("org", "add-user", "jsmith@example.com", "John Smith", "--team", "team-a",
                  "--role", "REGISTRY_WRITE_TEAM_ADMIN_ROLE", key=key)
    assert invited.returncode == 0, invited.stderr
    assert invited.stdout.startswith("Invitation sent to jsmith@example.com.")
    invitation = Invitation.objects.get(email="jsmith@example.com")
    assert invitation.team.name == "team-a" and invitation.org == personas.acme

    plain = ngc("org", "add-user", "kim@example.com", "Kim", key=key)
    assert plain.returncode == 0, plain.stderr
    assert Invitation.objects.get(email="kim@example.com").team is None
    again = ngc("org", "add-user", personas.org_registry_read.email, "Read", key=key)
    assert again.returncode != 0 and "already a member" in again.stderr

    teams = ngc("org", "list-teams", key=key)
    assert teams.returncode == 0
    assert teams.stdout.startswith("+") and "| team-a " in teams.stdout and "| alpha " in teams.stdout

    # every output format on a listing
    as_json = json.loads(ngc("org", "list-users", "--format_type", "json", key=key).stdout)
    emails = {u["email"] for u in as_json["users"]}
    assert personas.owner.email in emails and personas.org_registry_read.email in emails
    as_csv = list(csv.DictReader(io.StringIO(ngc("org", "list-users", "--format_type", "csv", key=key).stdout)))
    assert {row["Email"] for row in as_csv} == emails
    owner_row = next(row for row in as_csv if row["Email"] == personas.owner.email)
    assert "ORG_OWNER" in owner_row["Roles"]
    table = ngc("org", "list-users", key=key).stdout.splitlines()
    assert table[0].startswith("+-") and table[1].startswith("| Id ") and "Email" in table[1]

    # role change and removal
    user = personas.org_registry_read
    updated = ngc("org", "update-user", user.email, "--role", "REGISTRY_USER", "--remove-role", "REGISTRY_READ", key=key)
    assert updated.returncode == 0, updated.stderr
    assert "REGISTRY_USER" in updated.stdout and "REGISTRY_READ" not in updated.stdout
    refused = ngc("org", "remove-user", user.email, key=key, stdin="n\n")
    assert "Are you sure you would like to remove" in refused.stdout and refused.returncode != 0
    assert user.role_bindings.filter(org=personas.acme).exists()
    removed = ngc("org", "remove-user", user.email, "-y", key=key)
    assert removed.returncode == 0, removed.stderr
    assert not user.role_bindings.filter(org=personas.acme).exists()


def test_team_commands_and_user_who(personas, ngc, key_of):
    key = key_of(personas.owner)
    member = personas.org_registry_user
    added = ngc("team", "add-user", member.email, "Org User", "--team", "alpha", "--role", "REGISTRY_WRITE_USER_ROLE",
                key=key)
    assert added.returncode == 0, added.stderr
    assert member.role_bindings.filter(team=personas.alpha).exists()
    invited = ngc("team", "add-user", "newbie@example.com", "New Bie", "--role", "REGISTRY_READ", key=key,
                  env_extra={"NGC_CLI_TEAM": "alpha"})
    assert invited.returncode == 0 and "Invitation sent" in invited.stdout
    assert Invitation.objects.get(email="newbie@example.com").team == personas.alpha

    listed = ngc("team", "list-users", "--team", "alpha", "--format_type", "csv", key=key)
    rows = {row["Email"]: row for row in csv.DictReader(io.StringIO(listed.stdout))}
    assert member.email in rows and personas.alpha_registry_admin.email in rows

    updated = ngc("team", "update-user", member.email, "--team", "alpha", "--role", "REGISTRY_ADMIN", key=key)
    assert updated.returncode == 0 and "REGISTRY_ADMIN" in updated.stdout
    removed = ngc("team", "remove-user", member.email, "--team", "alpha", key=key, stdin="y\n")
    assert removed.returncode == 0, removed.stderr
    assert not member.role_bindings.filter(team=personas.alpha).exists()

    who = ngc("user", "who", key=key_of(personas.alpha_registry_user))
    assert who.returncode == 0, who.stderr
    assert f" Email: {personas.alpha_registry_user.email}" in who.stdout
    assert "| acme " in who.stdout and "| alpha " in who.stdout and "REGISTRY_USER" in who.stdout


def test_errors_are_one_line(personas, ngc, key_of):
    wrong = ngc("org", "list-teams", key="not-a-real-key")
    assert wrong.returncode != 0 and wrong.stderr.strip() == "Invalid API key" and wrong.stdout == ""

    forbidden = ngc("org", "add-team", "sneaky", "nope", key=key_of(personas.org_registry_read))
    assert forbidden.returncode != 0 and len(forbidden.stderr.strip().splitlines()) == 1
    assert forbidden.stderr.startswith("Forbidden") and "Traceback" not in forbidden.stderr
    assert not Team.objects.filter(name="sneaky").exists()

    missing = ngc("team", "remove-user", "nobody@example.com", "--team", "alpha", "-y", key=key_of(personas.owner))
    assert missing.returncode != 0 and "nobody@example.com" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1

    down = ngc("org", "list-teams", key="k", env_extra={"NGC_CLI_API_URL": "https://127.0.0.1:9"})
    assert down.returncode != 0 and "https://127.0.0.1:9/token" in down.stderr
    assert len(down.stderr.strip().splitlines()) == 1


def test_help_reads_well(ngc):
    top = ngc("--help", org=None)
    assert top.returncode == 0
    for group in ("config", "org", "team", "user", "registry"):
        assert f"    {group} " in top.stdout
        assert ngc(group, "-h", org=None).returncode == 0
    assert "add-team" in ngc("org", "-h", org=None).stdout
