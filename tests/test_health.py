"""/healthz (the process is up) and /readyz (the database and Redis answer) for probes: JSON,
503 when a dependency is unreachable, and reachable over plain HTTP by a node's address even with
production's HTTPS redirect and host checks on."""
import pytest
from django.db import connection

from tests.support.servers import free_port

pytestmark = pytest.mark.django_db(transaction=True)


def test_healthz_answers_ok_without_a_query(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


def test_readyz_reports_the_database_and_redis_reachable(client, settings):
    assert settings.REDIS_URL, "scripts/test sets REDIS_URL"
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


def test_readyz_without_redis_configured_needs_only_the_database(client, settings):
    settings.REDIS_URL = ""
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "redis": "not configured"}


def test_readyz_stays_ready_but_reports_redis_degraded_when_redis_is_unreachable(client, settings):
    # Requests still do their job without Redis (work waits in the outbox), so the node stays in
    # the balancer; the body says what is degraded.
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    response = client.get("/readyz")
    assert response.status_code == 200
    assert "Retry-After" not in response
    assert response.json() == {
        "status": "degraded", "checks": {"database": "ok", "redis": "unreachable: ConnectionError"},
    }


def test_readyz_answers_503_when_the_database_is_unreachable_and_healthz_still_answers(client):
    port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = free_port()  # a real refused connection, nothing mocked
    try:
        ready = client.get("/readyz")
        alive = client.get("/healthz")
    finally:
        connection.close()
        connection.settings_dict["PORT"] = port
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"] == "unreachable: OperationalError"
    assert alive.status_code == 200


def test_probes_answer_plain_http_on_a_node_address_in_production(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["registry.example.com"]
    for path in ("/healthz", "/readyz"):
        response = client.get(path, HTTP_HOST="10.1.2.3:8000")
        assert response.status_code == 200, (path, response.status_code)
    # Everything else still gets the redirect/host check.
    assert client.get("/v2/products", HTTP_HOST="10.1.2.3:8000").status_code == 400


def test_probes_refuse_other_methods(client):
    response = client.post("/readyz")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
