"""Rules of the container repository metadata services (artifacts.services)."""
import pytest

from registry_portal.errors import AccessDenied, Conflict, InvalidInput, NotFound
from artifacts import services
from artifacts.models import Manifest, Repository, Tag
from tests.support.oci import OCI_INDEX


@pytest.fixture
def repo(personas):
    return services.repository_create(actor=personas.alpha_registry_user, space=personas.alpha_space, path="app")


def test_it_creates_a_metadata_record_before_any_push(personas, repo):
    assert repo.name == "acme/alpha/app" and repo.path == "app" and repo.team == personas.alpha
    assert repo.created_by == personas.alpha_registry_user and not repo.is_public


def test_a_second_create_is_a_conflict(personas, repo):
    with pytest.raises(Conflict):
        services.repository_create(actor=personas.alpha_registry_admin, space=personas.alpha_space, path="app")


def test_an_org_repository_cannot_take_a_teams_name(personas):
    with pytest.raises(InvalidInput):
        services.repository_create(actor=personas.org_registry_admin, space=personas.acme_space, path="alpha/app")
    assert not Repository.objects.exists()


def test_it_rejects_bad_names_and_readers(personas):
    with pytest.raises(InvalidInput):
        services.repository_create(actor=personas.alpha_registry_user, space=personas.alpha_space, path="Bad Name")
    with pytest.raises(AccessDenied):
        services.repository_create(actor=personas.alpha_registry_read, space=personas.alpha_space, path="app")
    with pytest.raises(NotFound):
        services.repository_create(actor=personas.beta_user, space=personas.alpha_space, path="app")
    assert not Repository.objects.exists()


def test_update_trims_and_deduplicates_labels(personas, repo):
    updated = services.repository_update(
        actor=personas.alpha_registry_user, repository=repo, labels=["  Machine   Learning ", "Retail", "Machine Learning", ""],
        logo="https://logo.test/a.png", description="  Test description. ",
    )
    assert updated.labels == ["Machine Learning", "Retail"]
    assert updated.description == "Test description."
    assert Repository.objects.get(pk=repo.pk).logo == "https://logo.test/a.png"


@pytest.mark.parametrize("changes", [
    {"logo": "javascript:alert(1)"},
    {"logo": "ftp://logo.test/a.png"},
    {"logo": "www.logo.test/logo.png"},
    {"labels": "not-a-list"},
    {"labels": [1, 2]},
    {"labels": ["x" * 101]},
    {"labels": [f"l{i}" for i in range(51)]},
    {"display_name": "x" * 256},
    {"publisher": 5},
    {"colour": "blue"},
    {"display_name": "fine", "logo": "nope"},
])
def test_a_refused_update_changes_nothing(personas, repo, changes):
    with pytest.raises(InvalidInput):
        services.repository_update(actor=personas.alpha_registry_user, repository=repo, **changes)
    fresh = Repository.objects.get(pk=repo.pk)
    assert (fresh.display_name, fresh.logo, fresh.labels, fresh.publisher) == ("", "", [], "")


def test_only_an_admin_or_the_creator_may_unlock(personas, repo):
    other = services.repository_create(actor=personas.alpha_registry_admin, space=personas.alpha_space, path="other")
    with pytest.raises(AccessDenied):
        services.repository_set_public(actor=personas.alpha_registry_user, repository=other, is_public=True)
    assert services.repository_set_public(actor=personas.alpha_registry_user, repository=repo, is_public=True).is_public
    assert services.repository_set_public(actor=personas.alpha_registry_admin, repository=repo, is_public=False).is_public is False


def test_delete_is_for_admins_and_the_creator(personas, repo):
    other = services.repository_create(actor=personas.alpha_registry_admin, space=personas.alpha_space, path="other")
    with pytest.raises(AccessDenied):
        services.repository_delete(actor=personas.alpha_registry_user, repository=other)
    with pytest.raises(AccessDenied):
        services.repository_delete(actor=personas.alpha_registry_read, repository=repo)
    services.repository_delete(actor=personas.alpha_registry_user, repository=repo)
    services.repository_delete(actor=personas.alpha_registry_admin, repository=other)
    assert not Repository.objects.exists()


def test_delete_removes_a_multi_arch_repository_whole(personas, registry):
    client = registry(personas.alpha_registry_user)
    amd, amd_body = client.push_image("acme/alpha/multi", "amd64", layer=b"amd")
    arm, arm_body = client.push_image("acme/alpha/multi", "arm64", layer=b"arm", config=b'{"architecture":"arm64","os":"linux"}')
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": amd, "size": len(amd_body),
         "platform": {"architecture": "amd64", "os": "linux"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": arm, "size": len(arm_body),
         "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}},
    ]}
    response, _ = client.push_manifest("acme/alpha/multi", "1.0", index, OCI_INDEX)
    assert response.status_code == 201
    repository = Repository.objects.get(name="acme/alpha/multi")
    services.repository_delete(actor=personas.alpha_registry_user, repository=repository)
    assert not Repository.objects.exists() and not Manifest.objects.exists() and not Tag.objects.exists()


def test_tag_delete_and_set_latest(personas, registry):
    registry(personas.alpha_registry_admin).push_image("acme/alpha/app", "1.0")
    registry(personas.alpha_registry_user).push_image("acme/alpha/app", "2.0", layer=b"two")
    repository = Repository.objects.get(name="acme/alpha/app")
    pinned = services.tag_set_latest(actor=personas.alpha_registry_user, repository=repository, tag="1.0")
    assert pinned.latest_tag.name == "1.0"
    with pytest.raises(AccessDenied):  # the admin created the repository and pushed 1.0
        services.tag_delete(actor=personas.alpha_registry_user, repository=repository, tag="1.0")
    services.tag_delete(actor=personas.alpha_registry_user, repository=repository, tag="2.0")
    with pytest.raises(NotFound):
        services.tag_delete(actor=personas.alpha_registry_user, repository=repository, tag="2.0")
    services.tag_delete(actor=personas.alpha_registry_admin, repository=repository, tag="1.0")
    assert not Tag.objects.exists()
    assert Repository.objects.get(pk=repository.pk).latest_tag is None
