"""An unexpected error answers in the format of the face the request came to (issue 12 item 5):
the NGC envelope on the NGC API and /token, the OCI envelope on registry routes, Helm's JSON under
/helm/, a page on the portal. The body holds no stack trace or exception text; the log does.

The fault is injected by making one collaborator of each view raise; the error mapping under test
is the real one, through the whole middleware stack."""
import logging

import pytest
from django.test import Client

from accounts import tokens
from accounts.authentication import NGC_AUDIENCE
from tests.support.auth import basic_auth

pytestmark = pytest.mark.django_db
SECRET = "db-password=hunter2 at /srv/app/secret.py"


def explode(*args, **kwargs):
    raise RuntimeError(SECRET)


@pytest.fixture
def client():
    # Answer as the server would, instead of re-raising into the test.
    return Client(raise_request_exception=False)


def assert_clean(response) -> None:
    text = response.content.decode()
    assert SECRET not in text and "Traceback" not in text and "RuntimeError" not in text


def test_an_unexpected_error_on_the_ngc_api_answers_the_ngc_envelope(client, personas, monkeypatch, caplog):
    monkeypatch.setattr("accounts.selectors.orgs_of", explode)
    token, _ = tokens.issue_access_token(user_id=personas.owner.pk, audience=NGC_AUDIENCE, scopes=["group/ngc:acme"])

    with caplog.at_level(logging.ERROR):
        response = client.get("/v2/orgs", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 500 and response["Content-Type"] == "application/json"
    status = response.json()["requestStatus"]
    assert status["statusCode"] == "INTERNAL_ERROR" and status["statusDescription"]
    assert_clean(response)
    # The log has the exception and the request id the client saw.
    assert SECRET in caplog.text and status["requestId"] in caplog.text


def test_an_unexpected_error_on_token_answers_json(client, monkeypatch):
    monkeypatch.setattr("accounts.services.api_key_check", explode)

    response = client.get("/token?service=ngc", HTTP_AUTHORIZATION=basic_auth("rk_anything"))

    assert response.status_code == 500
    assert response.json()["requestStatus"]["statusCode"] == "INTERNAL_ERROR"
    assert_clean(response)


@pytest.mark.parametrize("path", ["/v2/", "/v2/acme/models/x/tags/list", "/v2/acme/x/manifests/latest", "/v2/_catalog"])
def test_an_unexpected_error_on_a_registry_route_answers_the_oci_envelope(client, monkeypatch, path):
    monkeypatch.setattr("artifacts.oci.views.authenticate", explode)

    response = client.get(path, HTTP_AUTHORIZATION=basic_auth("rk_anything"))

    assert response.status_code == 500 and response["Content-Type"] == "application/json"
    assert response.json()["errors"][0]["code"] == "UNKNOWN"
    assert response["Docker-Distribution-API-Version"] == "registry/2.0"
    assert_clean(response)


@pytest.mark.parametrize("method, path", [("get", "/helm/acme/index.yaml"), ("post", "/helm/api/acme/charts")])
def test_an_unexpected_error_on_the_helm_repository_answers_helm_json(client, monkeypatch, method, path):
    monkeypatch.setattr("helmrepo.views.authenticate", explode)

    response = getattr(client, method)(path, HTTP_AUTHORIZATION=basic_auth("rk_anything"))

    assert response.status_code == 500 and set(response.json()) == {"error"}
    assert_clean(response)


def test_an_unexpected_error_on_a_portal_page_is_the_portal_error_page(client, monkeypatch):
    monkeypatch.setattr("accounts.forms.SignInEmailForm.__init__", explode)

    response = client.get("/accounts/signin")

    assert response.status_code == 500 and response["Content-Type"].startswith("text/html")
    assert b"Something went wrong" in response.content
    assert_clean(response)


@pytest.mark.parametrize("path", ["/v2/org/acme/no-such-endpoint", "/v3/nothing", "/api/nothing"])
def test_an_unrouted_ngc_api_path_is_a_json_404(client, path):
    response = client.get(path)

    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert response.json()["requestStatus"]["statusCode"] == "NOT_FOUND"


def test_an_unrouted_helm_path_is_helm_json_and_a_portal_path_a_page(client):
    helm = client.get("/helm/acme/nothing/here/at/all")
    portal = client.get("/no-such-page")

    assert helm.status_code == 404 and set(helm.json()) == {"error"}
    assert portal.status_code == 404 and portal["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_a_nul_character_in_the_query_or_path_is_a_400_in_each_faces_format(client):
    # PostgreSQL text cannot hold NUL: schemathesis found `/v2/users/me?org-name=<...NUL...>` a 500.
    ngc = client.get("/v2/users/me?org-name=ac%00me", HTTP_AUTHORIZATION=basic_auth("rk_anything"))
    assert ngc.status_code == 400 and ngc["Content-Type"] == "application/json"
    assert "requestStatus" in ngc.json()

    registry = client.get("/v2/acme/x/tags/list?last=a%00b")
    assert registry.status_code == 400 and registry.json()["errors"][0]["code"] == "UNKNOWN"

    helm = client.get("/helm/ac%00me/index.yaml")
    assert helm.status_code == 400 and "error" in helm.json()

    page = client.get("/registry/catalog?q=a%00b")
    assert page.status_code == 400 and page["Content-Type"].startswith("text/html")
