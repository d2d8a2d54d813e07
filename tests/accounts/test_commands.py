"""Management commands for headless servers: createorg, addmember, apikey, demo."""
import re
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts import services
from accounts.models import Org, RoleBinding, User
from accounts.permissions import Action, Space, can
from accounts.roles import Role
from tests.support import servers


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def manage(*args: str) -> subprocess.CompletedProcess:
    """Run manage.py in its own process against the test database, as an operator would."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=servers.ROOT, env=servers.server_environment(), capture_output=True, text=True, timeout=120,
    )


# --- createorg -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_createorg_creates_the_org_and_a_new_owner_account_that_can_sign_in():
    output = run("createorg", "initech", "--owner", "Boss@Initech.example", "--display-name", "Initech", "--password", "tps-report-2024")
    assert "Created org 'initech' (Initech); owner boss@initech.example (new account)" in output
    org = Org.objects.get(name="initech")
    owner = User.objects.get(email="boss@initech.example")
    assert services.org_owner(org) == owner
    assert owner.check_password("tps-report-2024")
    assert can(owner, Action.MANAGE_TEAMS, Space(org))


@pytest.mark.django_db
def test_createorg_makes_an_existing_account_the_owner():
    existing = services.user_create(email="pat@example.test", password="pat-password-99")
    output = run("createorg", "hooli", "--owner", "pat@example.test")
    assert "(existing account)" in output
    assert services.org_owner(Org.objects.get(name="hooli")) == existing
    assert Org.objects.get(name="hooli").display_name == "hooli"
    assert existing.check_password("pat-password-99")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name, message",
    [("Initech", "must be all lowercase"), ("admin", "reserved name"), ("has space", "Invalid org name")],
)
def test_createorg_refuses_a_bad_name_and_creates_nothing(name, message):
    with pytest.raises(CommandError, match=message):
        run("createorg", name, "--owner", "boss@initech.example")
    assert not Org.objects.exists()
    assert not User.objects.filter(email="boss@initech.example").exists()


@pytest.mark.django_db
def test_createorg_refuses_an_existing_org():
    run("createorg", "initech", "--owner", "boss@initech.example")
    with pytest.raises(CommandError, match="Org 'initech' already exists"):
        run("createorg", "initech", "--owner", "other@initech.example")
    assert services.org_owner(Org.objects.get(name="initech")).email == "boss@initech.example"


# --- addmember -----------------------------------------------------------------------------


@pytest.fixture
def initech(db):
    run("createorg", "initech", "--owner", "boss@initech.example")
    org = Org.objects.get(name="initech")
    services.team_create(org=org, actor=services.org_owner(org), name="printers")
    services.user_create(email="milton@initech.example", password="stapler-stapler-1")
    return org


@pytest.mark.django_db
def test_addmember_grants_an_org_role_by_its_legacy_name(initech):
    output = run("addmember", "initech", "milton@initech.example", "--role", "REGISTRY_WRITE_ADMIN_ROLE")
    assert "milton@initech.example now has REGISTRY_ADMIN in initech" in output
    milton = User.objects.get(email="milton@initech.example")
    assert can(milton, Action.DELETE, Space(initech), service="CONTAINER", creator_id=None)


@pytest.mark.django_db
def test_addmember_grants_a_team_role(initech):
    output = run("addmember", "initech", "Milton@Initech.example", "--role", "registry read", "--team", "printers")
    assert "now has REGISTRY_READ in initech/printers" in output
    milton = User.objects.get(email="milton@initech.example")
    printers = initech.teams.get(name="printers")
    assert can(milton, Action.READ, Space(initech, printers), service="MODEL")
    assert not can(milton, Action.WRITE, Space(initech, printers), service="MODEL")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args, message",
    [
        (["initech", "milton@initech.example", "--role", "SUPERUSER"], "Unknown role 'SUPERUSER'. Valid roles: ORG_OWNER, REGISTRY_ADMIN, REGISTRY_USER, REGISTRY_READ, USER_ADMIN, USER_READ"),
        (["initech", "milton@initech.example", "--role", "ORG_OWNER"], "ownership transfer"),
        (["nope", "milton@initech.example", "--role", "REGISTRY_READ"], "Org 'nope' does not exist"),
        (["initech", "milton@initech.example", "--role", "REGISTRY_READ", "--team", "fax"], "Team 'fax' does not exist in org 'initech'"),
        (["initech", "nobody@initech.example", "--role", "REGISTRY_READ"], "No account with e-mail nobody@initech.example"),
    ],
)
def test_addmember_refuses_bad_input_with_a_clear_message(initech, args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        run("addmember", *args)
    assert not RoleBinding.objects.filter(user__email="milton@initech.example").exists()


# --- apikey --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_apikey_prints_only_a_new_key_and_the_old_one_stops_working(initech):
    first = run("apikey", "milton@initech.example").strip()
    second = run("apikey", "MILTON@initech.example").strip()
    milton = User.objects.get(email="milton@initech.example")
    assert first.startswith("rk_") and "\n" not in first
    assert services.api_key_authenticate(second) == milton
    assert services.api_key_authenticate(first) is None


@pytest.mark.django_db
def test_apikey_for_an_unknown_account_fails():
    with pytest.raises(CommandError, match="No account with e-mail ghost@example.test"):
        run("apikey", "ghost@example.test")


# --- demo ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_demo_creates_acme_once_and_prints_credentials_that_work(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    first = run("demo")
    second = run("demo")
    password = (tmp_path / "demo-owner-password").read_text().strip()
    assert "Demo org 'acme' (Acme Corp): created." in first
    assert "Demo org 'acme' (Acme Corp): already there." in second
    for output in (first, second):
        assert "owner@acme.example" in output
        assert f"Password: {password}" in output
        assert settings.SITE_URL in output
    owner = User.objects.get(email="owner@acme.example")
    assert owner.check_password(password)
    assert Org.objects.filter(name="acme").count() == 1
    assert services.org_owner(Org.objects.get(name="acme")) == owner
    assert oct((tmp_path / "demo-owner-password").stat().st_mode & 0o777) == "0o600"


@pytest.mark.django_db
def test_demo_resets_the_owner_password_to_the_stored_one(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    run("demo")
    owner = User.objects.get(email="owner@acme.example")
    owner.set_password("changed-by-someone-1")
    owner.save(update_fields=["password"])
    run("demo")
    owner.refresh_from_db()
    assert owner.check_password((tmp_path / "demo-owner-password").read_text().strip())


# --- exit codes, in a real process ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_commands_exit_zero_on_success_and_non_zero_with_a_message_on_error():
    created = manage("createorg", "initech", "--owner", "boss@initech.example", "--password", "tps-report-2024")
    assert created.returncode == 0, created.stderr
    assert "Created org 'initech'" in created.stdout
    services.user_create(email="milton@initech.example")

    refused = manage("addmember", "initech", "milton@initech.example", "--role", "SUPERUSER")
    assert refused.returncode != 0
    assert "Unknown role 'SUPERUSER'" in refused.stderr and "REGISTRY_USER" in refused.stderr
    assert not RoleBinding.objects.filter(user__email="milton@initech.example").exists()

    added = manage("addmember", "initech", "milton@initech.example", "--role", "REGISTRY_WRITE_USER_ROLE")
    assert added.returncode == 0, added.stderr
    assert RoleBinding.objects.filter(user__email="milton@initech.example", role=Role.REGISTRY_USER).exists()

    key = manage("apikey", "milton@initech.example")
    assert key.returncode == 0, key.stderr
    assert services.api_key_authenticate(key.stdout.strip()).email == "milton@initech.example"

    unknown = manage("apikey", "ghost@example.test")
    assert unknown.returncode != 0
    assert "No account with e-mail ghost@example.test" in unknown.stderr


# --- permissions_check ------------------------------------------------------------------------


@pytest.mark.django_db
def test_permissions_check_reports_drift_exits_non_zero_and_fixes_it(personas):
    from accounts.models import OrgUserObjectPermission, Team, TeamUserObjectPermission

    assert run("permissions_check").startswith("In sync:")
    OrgUserObjectPermission.objects.filter(user=personas.org_registry_read, permission__codename="model_read").delete()
    alpha = Team.objects.get(org=personas.acme, name="alpha")
    extra = TeamUserObjectPermission.objects.filter(user=personas.owner, content_object=alpha).first()
    TeamUserObjectPermission.objects.create(user=personas.outsider, content_object=alpha, permission=extra.permission)

    out = StringIO()
    with pytest.raises(CommandError, match="2 of .* drifted"):
        call_command("permissions_check", stdout=out)
    report = out.getvalue()
    assert f"{personas.org_registry_read.email} acme: +model_read" in report
    assert f"{personas.outsider.email} acme/alpha: -{extra.permission.codename}" in report

    assert "Fixed 2" in run("permissions_check", "--fix")
    assert run("permissions_check").startswith("In sync:")
    assert not can(personas.outsider, Action.VIEW_SPACE, Space(personas.acme, alpha))
    assert can(personas.org_registry_read, Action.READ, personas.acme_space, service="MODEL")
