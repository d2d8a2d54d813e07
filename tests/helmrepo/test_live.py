"""The Helm repository against the real server (gunicorn over HTTPS), with requests as helm would
use it: `$oauthtoken` Basic auth, push through the ChartMuseum API, parse index.yaml, download
every URL it lists and check the digests (with the server's blobs in local files and in an S3
bucket)."""
import hashlib
import os
import time
from urllib.parse import urljoin

import pytest
import yaml

from accounts import services as account_services
from artifacts.models import Blob
from helmrepo.models import ChartVersion
from tests.helmrepo import charts
from tests.support.blob_home import log_mark, requests_since

pytestmark = pytest.mark.django_db(transaction=True)


def session_for(server, user):
    session = server.session()
    session.auth = ("$oauthtoken", account_services.api_key_generate(user=user))
    return session


def own_package(name: str, version: str) -> bytes:
    """A package of this test's own bytes (a bucket outlives a test, and so do its blobs)."""
    return charts.package(name, version, extra_members=[charts.file_member(f"{name}/nonce", os.urandom(16))])


@pytest.mark.parametrize("blob_storage", ["local", "s3"])
def test_push_index_and_download_over_https(registry_server, blob_home, personas):
    server = registry_server
    helm = session_for(server, personas.alpha_registry_user)
    packages = {
        ("demo", "0.1.0"): own_package("demo", "0.1.0"),
        ("demo", "0.2.0"): own_package("demo", "0.2.0"),
        ("db", "1.0.0-alpha.1"): own_package("db", "1.0.0-alpha.1"),
    }
    for i, ((name, version), data) in enumerate(packages.items()):
        if i % 2:
            response = helm.post(f"{server.url}/helm/api/acme/alpha/charts", files={"chart": (f"{name}-{version}.tgz", data)})
        else:
            response = helm.post(f"{server.url}/helm/api/acme/alpha/charts", data=data, headers={"Content-Type": "application/gzip"})
        assert response.status_code == 201 and response.json() == {"saved": True}, response.text
    again = helm.post(f"{server.url}/helm/api/acme/alpha/charts", data=packages[("demo", "0.1.0")], headers={"Content-Type": "application/gzip"})
    assert again.status_code == 409 and "already exists" in again.json()["error"]

    repo = f"{server.url}/helm/acme/alpha/"
    response = helm.get(urljoin(repo, "index.yaml"))
    assert response.status_code == 200
    document = yaml.safe_load(response.text)
    assert document["apiVersion"] == "v1"
    assert {name: [e["version"] for e in entries] for name, entries in document["entries"].items()} == {
        "db": ["1.0.0-alpha.1"], "demo": ["0.2.0", "0.1.0"],
    }
    blob_home.assert_holds({f"sha256:{hashlib.sha256(data).hexdigest()}": len(data) for data in packages.values()})
    mark = log_mark(server.log_path)
    for name, entries in document["entries"].items():
        for entry in entries:
            download = helm.get(urljoin(repo, entry["urls"][0]))
            assert download.status_code == 200 and download.headers["Content-Type"] == "application/gzip"
            assert hashlib.sha256(download.content).hexdigest() == entry["digest"]
            assert download.content == packages[(name, entry["version"])]
    assert len(blob_home.assert_downloads_served(requests_since(server.log_path, mark), r"\.tgz$")) == len(packages)

    anonymous = server.session().get(urljoin(repo, "index.yaml"))
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"].startswith("Basic realm=")
    beta = session_for(server, personas.beta_user)
    assert beta.get(urljoin(repo, "index.yaml")).status_code == 404
    assert beta.get(urljoin(repo, "charts/demo-0.1.0.tgz")).status_code == 404

    # Invalidation reaches the live server's cache too: a delete shows in the next index.
    assert helm.delete(f"{server.url}/helm/api/acme/alpha/charts/demo/0.2.0").status_code == 200
    document = yaml.safe_load(helm.get(urljoin(repo, "index.yaml")).text)
    assert [e["version"] for e in document["entries"]["demo"]] == ["0.1.0"]


def test_a_refused_push_over_https_stores_nothing(live_server_https, personas):
    helm = session_for(live_server_https, personas.owner)
    evil = charts.package(extra_members=[charts.file_member("demo/../../../etc/cron.d/evil", b"* * * * * root sh\n")])
    response = helm.post(f"{live_server_https.url}/helm/api/acme/charts", data=evil, headers={"Content-Type": "application/gzip"})
    assert response.status_code == 400 and "'..'" in response.json()["error"]
    assert not ChartVersion.objects.exists() and not Blob.objects.exists()


def test_an_alias_bomb_pushed_over_https_is_refused_at_once_and_changes_nothing(live_server_https, personas):
    server = live_server_https
    helm = session_for(server, personas.owner)
    assert helm.post(f"{server.url}/helm/api/acme/charts", data=charts.package("demo", "0.1.0"),
                     headers={"Content-Type": "application/gzip"}).status_code == 201
    before = helm.get(f"{server.url}/helm/acme/index.yaml")
    assert before.status_code == 200

    bomb = charts.alias_bomb("demo", "0.2.0")
    started = time.monotonic()
    response = helm.post(f"{server.url}/helm/api/acme/charts", data=bomb, headers={"Content-Type": "application/gzip"})
    elapsed = time.monotonic() - started
    assert response.status_code == 400 and response.headers["Content-Type"] == "application/json"
    assert "Chart.yaml holds more than 10000 values once its aliases are expanded" in response.json()["error"]
    assert elapsed < 0.5, f"the refusal took {elapsed:.2f} s"
    assert list(ChartVersion.objects.values_list("version", flat=True)) == ["0.1.0"]
    assert Blob.objects.count() == 1
    assert helm.get(f"{server.url}/helm/acme/index.yaml").content == before.content
