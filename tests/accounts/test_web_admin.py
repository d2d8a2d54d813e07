"""Django admin: every accounts model is registered and its pages open for a superuser only."""
import pytest
from django.test import Client
from django.urls import reverse

from accounts import permissions, services
from accounts.models import ApiKey, Invitation, Org, RoleBinding, Team, User
from accounts.roles import Role

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

MODELS = (User, Org, Team, RoleBinding, Invitation, ApiKey)


@pytest.fixture
def admin_client_(personas):
    admin = User.objects.create_superuser(email="root@example.test", password="root-pass-123456")
    services.api_key_generate(user=personas.owner)
    services.invitation_create(actor=personas.owner, org=personas.acme, email="x@example.test", org_roles=[Role.REGISTRY_READ])
    client = Client()
    client.force_login(admin)
    return client


@pytest.mark.django_db
def test_every_accounts_model_has_admin_pages(admin_client_):
    for model in MODELS:
        name = model._meta.model_name
        assert admin_client_.get(reverse(f"admin:accounts_{name}_changelist")).status_code == 200, name
        obj = model.objects.first()
        assert admin_client_.get(reverse(f"admin:accounts_{name}_change", args=[obj.pk])).status_code == 200, name


@pytest.mark.django_db
def test_api_keys_are_read_only_and_show_no_secret(admin_client_):
    key = ApiKey.objects.get()
    assert admin_client_.get(reverse("admin:accounts_apikey_add")).status_code == 403
    page = admin_client_.get(reverse("admin:accounts_apikey_change", args=[key.pk])).content.decode()
    assert key.prefix in page and 'name="key_hash"' not in page


@pytest.mark.django_db
def test_users_are_created_by_e_mail_in_the_admin(admin_client_):
    response = admin_client_.post(reverse("admin:accounts_user_add"), {
        "email": "made@example.test", "name": "Made", "password1": "a-long-pass-4567", "password2": "a-long-pass-4567",
        "usable_password": "true",
    })
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert User.objects.get(email="made@example.test").check_password("a-long-pass-4567")


@pytest.mark.django_db
def test_portal_users_cannot_open_the_admin(personas):
    client = Client()
    client.force_login(personas.owner)
    response = client.get(reverse("admin:accounts_user_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response.url


@pytest.mark.django_db
def test_a_team_created_in_the_admin_is_seen_by_the_org_owner(admin_client_, personas):
    response = admin_client_.post(reverse("admin:accounts_team_add"), {
        "org": personas.acme.pk, "name": "gamma", "description": "", "created_at_0": "2026-01-01", "created_at_1": "00:00:00",
    })
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert "gamma" in {team.name for team in permissions.visible_teams(personas.owner, personas.acme)}
    assert "gamma" not in {team.name for team in permissions.visible_teams(personas.org_registry_user, personas.acme)}


@pytest.mark.django_db
def test_a_team_deleted_in_the_admin_takes_its_only_members_out_of_the_org(admin_client_, personas):
    beta = Team.objects.get(org=personas.acme, name="beta")
    assert personas.acme in permissions.visible_orgs(personas.beta_user)
    response = admin_client_.post(reverse("admin:accounts_team_delete", args=[beta.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not RoleBinding.objects.filter(user=personas.beta_user, org=personas.acme).exists()
    assert personas.acme not in permissions.visible_orgs(personas.beta_user)


@pytest.mark.django_db
def test_a_binding_made_in_the_admin_gives_its_permissions(admin_client_, personas):
    response = admin_client_.post(reverse("admin:accounts_rolebinding_add"), {
        "user": personas.outsider.pk, "org": personas.acme.pk, "team": "", "role": Role.REGISTRY_READ,
        "created_at_0": "2026-01-01", "created_at_1": "00:00:00",
    })
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert permissions.can(personas.outsider, permissions.Action.VIEW_SPACE, personas.acme_space)
