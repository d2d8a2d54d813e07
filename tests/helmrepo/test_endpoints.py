"""The Helm repository endpoints through Django's test client: index.yaml in Helm's format,
downloads, the ChartMuseum push/delete API, authentication and who may see what."""
import hashlib
import re

import pytest
import yaml

from artifacts.models import Blob
from helmrepo.models import ChartVersion
from tests.helmrepo import charts
from tests.support.auth import bearer_auth
from tests.support.helm import Helm

# Cache invalidation runs once a write commits, so these tests commit.
pytestmark = pytest.mark.django_db(transaction=True)
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def test_pushes_raw_and_multipart_then_the_index_lists_them_in_helms_format(client, personas):
    helm = Helm(client, personas.alpha_registry_user)
    packages = {
        ("demo", "1.0.0"): charts.package("demo", "1.0.0"),
        ("demo", "1.10.0"): charts.package("demo", "1.10.0", dependencies=[{"name": "redis", "version": "17.x", "repository": "https://example.test"}]),
        ("demo", "1.2.0-rc.1"): charts.package("demo", "1.2.0-rc.1"),
        ("web-app", "0.1.0"): charts.package("web-app", "0.1.0", appVersion=None, maintainers=[{"name": "Ann"}]),
    }
    for i, data in enumerate(packages.values()):
        response = helm.push("acme/alpha", data, multipart=bool(i % 2))
        assert response.status_code == 201, response.content
        assert response.json() == {"saved": True}

    response = helm.index("acme/alpha")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/x-yaml")
    document = yaml.safe_load(response.content)
    assert document["apiVersion"] == "v1" and RFC3339.match(document["generated"])
    assert list(document["entries"]) == ["demo", "web-app"]
    assert [e["version"] for e in document["entries"]["demo"]] == ["1.10.0", "1.2.0-rc.1", "1.0.0"]
    for name, entries in document["entries"].items():
        for entry in entries:
            data = packages[(name, entry["version"])]
            assert entry["apiVersion"] == "v2" and entry["name"] == name
            assert entry["description"] == f"A Helm chart for {name}"
            assert RFC3339.match(entry["created"])
            assert entry["digest"] == hashlib.sha256(data).hexdigest()
            assert entry["urls"] == [f"charts/{name}-{entry['version']}.tgz"]
            download = helm.get(f"/helm/acme/alpha/{entry['urls'][0]}")
            assert download.status_code == 200 and download["Content-Type"] == "application/gzip"
            assert hashlib.sha256(b"".join(download.streaming_content)).hexdigest() == entry["digest"]
    assert document["entries"]["demo"][0]["dependencies"] == [{"name": "redis", "version": "17.x", "repository": "https://example.test"}]
    assert document["entries"]["demo"][0]["appVersion"] == "1.16.0"
    assert "appVersion" not in document["entries"]["web-app"][0]
    assert document["entries"]["web-app"][0]["maintainers"] == [{"name": "Ann"}]


def test_an_org_index_lists_org_charts_and_a_team_index_only_its_own(client, personas):
    Helm(client, personas.owner).push("acme", charts.package("org-chart"))
    Helm(client, personas.beta_user).push("acme/beta", charts.package("beta-chart"))
    Helm(client, personas.alpha_registry_user).push("acme/alpha", charts.package("alpha-chart"))
    owner = Helm(client, personas.owner)
    assert list(yaml.safe_load(owner.index("acme").content)["entries"]) == ["org-chart"]
    assert list(yaml.safe_load(owner.index("acme/beta").content)["entries"]) == ["beta-chart"]
    alpha = Helm(client, personas.alpha_registry_read)
    assert list(yaml.safe_load(alpha.index("acme/alpha").content)["entries"]) == ["alpha-chart"]
    # Another team's index and packages are not there for them (404, not 403).
    assert alpha.index("acme/beta").status_code == 404
    assert alpha.get("/helm/acme/beta/charts/beta-chart-0.1.0.tgz").status_code == 404
    assert alpha.push("acme/beta", charts.package("x")).status_code == 404
    assert Helm(client, personas.outsider).index("acme").status_code == 404
    assert alpha.get("/helm/acme/alpha/charts/alpha-chart-9.9.9.tgz").status_code == 404


def test_unauthenticated_and_bad_credentials_get_a_basic_challenge(client, personas):
    for helm in (Helm(client), Helm(client, authorization="Basic " + "JG9hdXRodG9rZW46bm9wZQ=="), Helm(client, authorization="Bearer x.y.z")):
        for response in (helm.index("acme"), helm.push("acme", charts.package()), helm.get("/helm/acme/charts/demo-0.1.0.tgz")):
            assert response.status_code == 401
            assert response["WWW-Authenticate"].startswith("Basic realm=")
            assert "error" in response.json()
    assert not ChartVersion.objects.exists()


def test_bearer_tokens_work_and_their_scopes_narrow(client, personas):
    helm = Helm(client, authorization=bearer_auth(personas.alpha_registry_user, ["group/ngc:acme/alpha"]))
    assert helm.push("acme/alpha", charts.package("demo")).status_code == 201
    assert helm.index("acme/alpha").status_code == 200
    assert helm.get("/helm/acme/alpha/charts/demo-0.1.0.tgz").status_code == 200
    other = Helm(client, authorization=bearer_auth(personas.owner, ["group/ngc:acme/beta"]))
    assert other.index("acme/alpha").status_code == 403
    unscoped = Helm(client, authorization=bearer_auth(personas.owner))
    assert unscoped.index("acme/alpha").status_code == 200


def test_refusals_answer_json_errors_and_store_nothing(client, personas, settings):
    helm = Helm(client, personas.org_registry_user)
    assert helm.push("acme", charts.package("demo", "1.0.0")).status_code == 201
    before = (ChartVersion.objects.count(), Blob.objects.count())
    cases = [
        (charts.package("demo", "1.0.0", appVersion="9"), 409, "already exists"),
        (charts.package("demo", "1.0"), 400, "SemVer"),
        (b"not a tarball", 400, "gzip"),
        (charts.package(extra_members=[charts.special_member("demo/l", b"2", "/etc/passwd")]), 400, "link"),
        (b"\0" * (settings.HELM_MAX_CHART_BYTES + 1), 413, "larger than"),
    ]
    for data, status, message in cases:
        response = helm.push("acme", data)
        assert response.status_code == status, response.content
        assert message in response.json()["error"]
    assert Helm(client, personas.org_registry_read).push("acme", charts.package("x")).status_code == 403
    assert helm.client.post("/helm/api/acme/charts", {"other": "x"}, **helm.headers).status_code == 400
    assert (ChartVersion.objects.count(), Blob.objects.count()) == before


def test_force_push_is_for_admins_and_the_index_follows_every_write(client, personas):
    user, admin = Helm(client, personas.org_registry_user), Helm(client, personas.org_registry_admin)
    original, changed = charts.package("demo", "1.0.0"), charts.package("demo", "1.0.0", appVersion="2")
    assert user.push("acme", original).status_code == 201
    first = yaml.safe_load(user.index("acme").content)  # now cached
    assert first["entries"]["demo"][0]["digest"] == hashlib.sha256(original).hexdigest()
    assert user.push("acme", changed, force=True).status_code == 403
    assert admin.push("acme", changed, force=True).status_code == 201
    forced = yaml.safe_load(user.index("acme").content)
    assert forced["entries"]["demo"][0]["digest"] == hashlib.sha256(changed).hexdigest()
    assert user.push("acme", charts.package("demo", "1.1.0")).status_code == 201
    assert [e["version"] for e in yaml.safe_load(user.index("acme").content)["entries"]["demo"]] == ["1.1.0", "1.0.0"]
    # Delete: the creator may remove their own version, a reader may not.
    assert Helm(client, personas.org_registry_read).delete("acme", "demo", "1.1.0").status_code == 403
    response = user.delete("acme", "demo", "1.1.0")
    assert response.status_code == 200 and response.json() == {"deleted": True}
    assert [e["version"] for e in yaml.safe_load(user.index("acme").content)["entries"]["demo"]] == ["1.0.0"]
    assert user.get("/helm/acme/charts/demo-1.1.0.tgz").status_code == 404
    assert user.delete("acme", "demo", "1.1.0").status_code == 404


def test_the_helm_host_serves_the_same_routes_at_its_root(client, personas, settings):
    settings.HELM_HOST = "helm.registry.test"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "helm.registry.test", "testserver"]
    helm = Helm(client, personas.owner, prefix="")
    assert helm.push("acme", charts.package("demo"), HTTP_HOST="helm.registry.test").status_code == 201
    document = yaml.safe_load(helm.index("acme", HTTP_HOST="helm.registry.test").content)
    url = document["entries"]["demo"][0]["urls"][0]
    assert helm.get(f"/acme/{url}", HTTP_HOST="helm.registry.test").status_code == 200
    assert helm.index("acme").status_code == 404  # other hosts keep /helm/
    assert Helm(client, personas.owner).index("acme").status_code == 200
