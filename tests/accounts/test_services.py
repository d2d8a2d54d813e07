"""The identity services' rules: who may grant what, one owner per org, API keys, invitations,
team names, and that a refused call leaves the stored data exactly as it was."""
import hashlib
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import services
from registry_portal.errors import AccessDenied, Conflict, Gone, InvalidInput, NotFound
from accounts.models import ApiKey, Invitation, Org, OrgUserObjectPermission, RoleBinding, Team, TeamUserObjectPermission
from accounts.permissions import Action, can
from accounts.roles import Role


@pytest.fixture
def newcomer(db):
    return services.user_create(email="newcomer@example.test", name="New Comer", password="newcomer-pass-123")


def _rows(queryset) -> list[str]:
    return sorted(map(repr, queryset))


def stored_state() -> dict:
    """Everything an identity service may write, in a comparable form."""
    return {
        "bindings": _rows(RoleBinding.objects.values_list("user_id", "org_id", "team_id", "role")),
        "teams": _rows(Team.objects.values_list("org_id", "name", "description")),
        "invitations": _rows(Invitation.objects.values_list("email", "org_id", "team_id", "accepted_at")),
        "api_keys": _rows(ApiKey.objects.values_list("user_id", "key_hash")),
        "org_perms": _rows(OrgUserObjectPermission.objects.values_list("user_id", "content_object_id", "permission_id")),
        "team_perms": _rows(TeamUserObjectPermission.objects.values_list("user_id", "content_object_id", "permission_id")),
    }


def roles_of(user, org, team=None) -> set[str]:
    return set(RoleBinding.objects.filter(user=user, org=org, team=team).values_list("role", flat=True))


# --- who may grant what --------------------------------------------------------------------


@pytest.mark.django_db
def test_a_user_admin_cannot_grant_registry_admin_which_they_do_not_hold(personas, newcomer):
    before = stored_state()
    with pytest.raises(AccessDenied, match="you may not grant REGISTRY_ADMIN in acme"):
        services.role_add(actor=personas.org_user_admin, space=personas.acme_space, user=newcomer, roles=["REGISTRY_ADMIN"])
    assert stored_state() == before


@pytest.mark.django_db
def test_a_user_admin_grants_the_user_admin_role_they_hold(personas, newcomer):
    services.role_add(actor=personas.org_user_admin, space=personas.acme_space, user=newcomer, roles=["USER_ADMIN"])
    assert roles_of(newcomer, personas.acme) == {Role.USER_ADMIN}
    assert can(newcomer, Action.MANAGE_USERS, personas.acme_space)


@pytest.mark.django_db
def test_a_user_admin_cannot_slip_a_role_they_lack_into_an_invitation(personas):
    before = stored_state()
    with pytest.raises(AccessDenied, match="REGISTRY_USER"):
        services.invitation_create(
            actor=personas.org_user_admin, org=personas.acme, email="x@example.test",
            org_roles=["USER_ADMIN", "REGISTRY_WRITE_USER_ROLE"],
        )
    assert stored_state() == before


@pytest.mark.django_db
def test_a_team_user_admin_grants_only_in_their_own_team(personas):
    member = personas.beta_user  # already in the org, through team beta
    services.role_add(actor=personas.alpha_user_admin, space=personas.alpha_space, user=member, roles=["USER_ADMIN"])
    assert roles_of(member, personas.acme, personas.alpha) == {Role.USER_ADMIN}
    before = stored_state()
    with pytest.raises(AccessDenied, match="REGISTRY_USER"):
        services.role_add(actor=personas.alpha_user_admin, space=personas.alpha_space, user=member, roles=["REGISTRY_USER"])
    with pytest.raises(NotFound, match="Team 'beta' not found"):
        services.role_add(actor=personas.alpha_user_admin, space=personas.beta_space, user=member, roles=["USER_ADMIN"])
    with pytest.raises(AccessDenied):
        services.role_add(actor=personas.alpha_user_admin, space=personas.acme_space, user=member, roles=["USER_ADMIN"])
    assert stored_state() == before


@pytest.mark.django_db
def test_holding_a_role_lets_one_grant_the_lesser_roles_of_its_family(personas):
    member = personas.beta_user
    # User Admin ⊇ User Read; Registry Admin ⊇ Registry User ⊇ Registry Read.
    services.role_add(actor=personas.alpha_user_admin, space=personas.alpha_space, user=member, roles=["USER_READ"])
    services.role_add(actor=personas.alpha_registry_admin, space=personas.alpha_space, user=member, roles=["REGISTRY_READ"])
    assert roles_of(member, personas.acme, personas.alpha) == {Role.USER_READ, Role.REGISTRY_READ}
    before = stored_state()
    with pytest.raises(AccessDenied, match="USER_ADMIN"):
        services.role_add(actor=personas.alpha_registry_admin, space=personas.alpha_space, user=member, roles=["USER_ADMIN"])
    with pytest.raises(AccessDenied, match="REGISTRY_ADMIN"):
        services.role_add(actor=personas.org_user_admin, space=personas.alpha_space, user=member, roles=["REGISTRY_ADMIN"])
    assert stored_state() == before


@pytest.mark.django_db
def test_a_team_user_admin_cannot_pull_someone_from_outside_into_the_org(personas, newcomer):
    before = stored_state()
    for stranger in (newcomer, personas.outsider):
        with pytest.raises(AccessDenied, match="is not a member of org 'acme'"):
            services.member_add(actor=personas.alpha_user_admin, space=personas.alpha_space, user=stranger, roles=["USER_ADMIN"])
    assert stored_state() == before


@pytest.mark.django_db
def test_an_org_user_manager_brings_a_new_person_straight_into_a_team(personas, newcomer):
    services.member_add(actor=personas.org_registry_admin, space=personas.alpha_space, user=newcomer, roles=["REGISTRY_USER"])
    assert roles_of(newcomer, personas.acme, personas.alpha) == {Role.REGISTRY_USER}
    assert can(newcomer, Action.VIEW_SPACE, personas.acme_space)


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["org_registry_user", "org_registry_read", "org_user_read", "alpha_registry_user", "outsider"])
def test_members_without_user_management_cannot_grant_anything(personas, newcomer, persona):
    before = stored_state()
    with pytest.raises((AccessDenied, NotFound)):
        services.role_add(actor=getattr(personas, persona), space=personas.acme_space, user=newcomer, roles=["REGISTRY_READ"])
    assert stored_state() == before


@pytest.mark.django_db
def test_the_owner_can_grant_every_role_at_org_and_team_level(personas, newcomer):
    five = ["REGISTRY_ADMIN", "REGISTRY_USER", "REGISTRY_READ", "USER_ADMIN", "USER_READ"]
    assert set(services.role_add(actor=personas.owner, space=personas.acme_space, user=newcomer, roles=five)) == set(five)
    assert set(services.role_add(actor=personas.owner, space=personas.beta_space, user=newcomer, roles=five)) == set(five)


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["ORG_OWNER", "Org Owner", "OWNER"])
def test_nobody_can_grant_the_org_owner_role(personas, newcomer, name):
    before = stored_state()
    with pytest.raises(InvalidInput, match="Org Owner role cannot be granted"):
        services.role_add(actor=personas.owner, space=personas.acme_space, user=newcomer, roles=[name])
    with pytest.raises(InvalidInput, match="Org Owner role cannot be granted"):
        services.invitation_create(actor=personas.owner, org=personas.acme, email="x@example.test", org_roles=[name])
    with pytest.raises(InvalidInput, match="Org Owner role cannot be granted"):
        services.member_set_roles(actor=personas.owner, space=personas.acme_space, user=personas.org_registry_user, roles=[name])
    assert stored_state() == before


@pytest.mark.django_db
def test_an_org_registry_admin_adds_a_registry_user_as_in_the_guide(personas, newcomer):
    # Guide 2.5.2.3: an Org Admin (REGISTRY_WRITE_ADMIN_ROLE) adds a user as REGISTRY_WRITE_USER_ROLE.
    services.role_add(
        actor=personas.org_registry_admin, space=personas.alpha_space, user=newcomer, roles=["REGISTRY_WRITE_USER_ROLE"]
    )
    assert roles_of(newcomer, personas.acme, personas.alpha) == {Role.REGISTRY_USER}
    with pytest.raises(AccessDenied, match="USER_READ"):
        services.role_add(actor=personas.org_registry_admin, space=personas.acme_space, user=newcomer, roles=["USER_READ"])


# --- exactly one owner ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_database_refuses_a_second_owner_binding(personas):
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleBinding.objects.create(user=personas.org_registry_admin, org=personas.acme, role=Role.ORG_OWNER)
    assert list(RoleBinding.objects.filter(org=personas.acme, role=Role.ORG_OWNER).values_list("user__email", flat=True)) == [
        "owner@example.test"
    ]


@pytest.mark.django_db
def test_the_database_refuses_an_owner_binding_on_a_team(personas):
    # An org without an owner row, so only the "owner is bound at org level" check can refuse.
    bare = Org.objects.create(name="bare", display_name="Bare")
    team = Team.objects.create(org=bare, name="ops")
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleBinding.objects.create(user=personas.beta_user, org=bare, team=team, role=Role.ORG_OWNER)
    assert not RoleBinding.objects.filter(org=bare).exists()


@pytest.mark.django_db
def test_ownership_transfer_moves_the_one_owner_binding_and_the_old_owner_stays_an_admin(personas):
    old, new = personas.owner, personas.alpha_registry_read
    services.org_transfer_ownership(org=personas.acme, actor=old, new_owner=new)

    assert services.org_owner(personas.acme) == new
    assert RoleBinding.objects.filter(org=personas.acme, role=Role.ORG_OWNER).count() == 1
    assert roles_of(old, personas.acme) == {Role.REGISTRY_ADMIN, Role.USER_ADMIN}
    assert can(old, Action.MANAGE_USERS, personas.acme_space)
    assert can(old, Action.DELETE, personas.beta_space, service="CONTAINER", creator_id=None)
    assert can(new, Action.MANAGE_TEAMS, personas.acme_space)
    assert can(new, Action.WRITE, personas.beta_space, service="MODEL")


@pytest.mark.django_db
def test_only_the_owner_transfers_ownership_and_only_to_a_member(personas, newcomer):
    before = stored_state()
    with pytest.raises(AccessDenied, match="Only the Org Owner"):
        services.org_transfer_ownership(org=personas.acme, actor=personas.org_registry_admin, new_owner=personas.org_registry_admin)
    with pytest.raises(InvalidInput, match="must be a member of 'acme'"):
        services.org_transfer_ownership(org=personas.acme, actor=personas.owner, new_owner=newcomer)
    with pytest.raises(InvalidInput, match="already own"):
        services.org_transfer_ownership(org=personas.acme, actor=personas.owner, new_owner=personas.owner)
    assert stored_state() == before


@pytest.mark.django_db
def test_the_owner_cannot_be_removed(personas):
    before = stored_state()
    with pytest.raises(InvalidInput, match="Org Owner cannot be removed"):
        services.member_remove(actor=personas.owner, space=personas.acme_space, user=personas.owner)
    with pytest.raises(InvalidInput, match="Org Owner cannot be removed"):
        services.member_remove(actor=personas.org_registry_admin, space=personas.acme_space, user=personas.owner)
    with pytest.raises(InvalidInput, match="Org Owner role cannot be removed"):
        services.role_remove(actor=personas.owner, space=personas.acme_space, user=personas.owner, roles=["ORG_OWNER"])
    assert stored_state() == before


@pytest.mark.django_db
def test_removing_a_member_from_the_org_also_removes_their_team_roles(personas):
    user = personas.beta_user
    services.role_add(actor=personas.owner, space=personas.acme_space, user=user, roles=["REGISTRY_READ"])
    services.member_remove(actor=personas.owner, space=personas.acme_space, user=user)
    assert not RoleBinding.objects.filter(user=user, org=personas.acme).exists()
    assert not can(user, Action.VIEW_SPACE, personas.beta_space)


# --- API keys ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_new_api_key_invalidates_the_old_one_and_a_wrong_key_is_refused(personas):
    user = personas.alpha_registry_user
    first = services.api_key_generate(user=user)
    assert services.api_key_authenticate(first) == user
    second = services.api_key_generate(user=user)
    assert second != first
    assert services.api_key_authenticate(first) is None
    assert services.api_key_authenticate(second) == user
    assert services.api_key_authenticate(second + "x") is None
    assert services.api_key_authenticate("") is None
    assert ApiKey.objects.filter(user=user).count() == 1


@pytest.mark.django_db
def test_the_raw_api_key_is_never_stored_only_its_sha256_and_a_short_prefix(personas):
    raw = services.api_key_generate(user=personas.owner)
    row = ApiKey.objects.get(user=personas.owner)
    assert row.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw.startswith(row.prefix) and len(row.prefix) <= 12
    stored_text = " ".join(str(value) for value in ApiKey.objects.filter(pk=row.pk).values().get().values())
    assert raw not in stored_text


@pytest.mark.django_db
def test_a_deactivated_users_key_no_longer_authenticates(personas):
    user = personas.org_registry_read
    raw = services.api_key_generate(user=user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert services.api_key_authenticate(raw) is None


# --- invitations ---------------------------------------------------------------------------


def _invite(personas, email="newcomer@example.test"):
    invitation = services.invitation_create(
        actor=personas.owner, org=personas.acme, email=email, team=personas.alpha, team_roles=["REGISTRY_USER"],
        org_roles=["REGISTRY_READ"],
    )
    return invitation, services.invitation_link_token(invitation)


@pytest.mark.django_db
def test_an_invitation_is_accepted_once_and_then_gone(personas, newcomer):
    _, token = _invite(personas)
    services.invitation_accept(token=token, user=newcomer)
    assert roles_of(newcomer, personas.acme) == {Role.REGISTRY_READ}
    assert roles_of(newcomer, personas.acme, personas.alpha) == {Role.REGISTRY_USER}
    assert can(newcomer, Action.WRITE, personas.alpha_space, service="MODEL")

    before = stored_state()
    with pytest.raises(Gone, match="already been used"):
        services.invitation_accept(token=token, user=newcomer)
    assert stored_state() == before


@pytest.mark.django_db
def test_an_expired_invitation_is_gone_and_grants_nothing(personas, newcomer):
    invitation, token = _invite(personas)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    before = stored_state()
    with pytest.raises(Gone, match="expired"):
        services.invitation_accept(token=token, user=newcomer)
    assert stored_state() == before
    assert not RoleBinding.objects.filter(user=newcomer).exists()


@pytest.mark.django_db
def test_an_invitation_for_another_address_is_refused(personas, newcomer):
    _, token = _invite(personas, email="someone-else@example.test")
    before = stored_state()
    with pytest.raises(AccessDenied, match="sent to someone-else@example.test"):
        services.invitation_accept(token=token, user=newcomer)
    assert stored_state() == before
    assert Invitation.objects.get(email="someone-else@example.test").is_pending


@pytest.mark.django_db
def test_a_tampered_invitation_link_is_not_found(personas, newcomer):
    invitation, token = _invite(personas)
    with pytest.raises(NotFound):
        services.invitation_accept(token=token[:-1] + ("0" if token[-1] != "0" else "1"), user=newcomer)
    with pytest.raises(NotFound):
        services.invitation_accept(token="garbage", user=newcomer)
    assert Invitation.objects.get(pk=invitation.pk).is_pending


@pytest.mark.django_db
def test_an_invitation_needs_a_role_and_a_future_expiry(personas):
    before = stored_state()
    with pytest.raises(InvalidInput, match="at least one"):
        services.invitation_create(actor=personas.owner, org=personas.acme, email="x@example.test")
    with pytest.raises(InvalidInput, match="future"):
        services.invitation_create(
            actor=personas.owner, org=personas.acme, email="x@example.test", org_roles=["USER_READ"],
            expires_in=timedelta(seconds=-5),
        )
    assert stored_state() == before


# --- team names ----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name, error, message",
    [
        ("Research", InvalidInput, "must be all lowercase: use 'research'"),
        ("deep learning", InvalidInput, "Invalid team name 'deep learning'"),
        ("-edge", InvalidInput, "starting and ending with a letter or digit"),
        ("a" * 65, InvalidInput, "too long"),
        ("", InvalidInput, "name is required"),
        ("alpha", Conflict, "Team 'alpha' already exists in org 'acme'"),
    ],
)
def test_a_bad_team_name_is_refused_with_a_clear_message(personas, name, error, message):
    before = stored_state()
    with pytest.raises(error, match=message):
        services.team_create(org=personas.acme, actor=personas.owner, name=name)
    assert stored_state() == before


@pytest.mark.django_db
def test_the_same_team_name_is_fine_in_another_org(personas):
    team = services.team_create(org=personas.globex, actor=personas.outsider, name="alpha")
    assert str(team) == "globex/alpha"


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["org_registry_user", "alpha_registry_admin", "org_user_read", "outsider"])
def test_only_org_administrators_create_teams(personas, persona):
    before = stored_state()
    with pytest.raises((AccessDenied, NotFound)):
        services.team_create(org=personas.acme, actor=getattr(personas, persona), name="gamma")
    assert stored_state() == before
