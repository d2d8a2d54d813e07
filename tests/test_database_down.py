"""The database down (issue 13 item 6): a live gunicorn whose PostgreSQL refuses connections, or
accepts and hangs up, answers 503 with Retry-After in each face's format within 2 s: the NGC API,
/token, registry routes, the Helm repository and a portal page."""
import socket
import threading
import time

import pytest

from accounts import tokens
from accounts.authentication import NGC_AUDIENCE
from tests.support import servers
from tests.support.auth import basic_auth

BASIC = basic_auth("rk_some-key")


@pytest.fixture
def nothing_listens():
    return servers.free_port()


@pytest.fixture
def accepts_and_hangs_up():
    """A TCP listener that accepts each connection and closes it at once (a database going away)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    stop = threading.Event()

    def serve():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    listener.close()


@pytest.fixture(params=["nothing_listens", "accepts_and_hangs_up"])
def server_without_database(request, tmp_path):
    port = request.getfixturevalue(request.param)
    server = servers.start_gunicorn(
        tmp_path, env_extra={"DATABASE_URL": f"postgresql://postgres@127.0.0.1:{port}/registry"}
    )
    yield server
    servers.stop(server.process)


def test_every_face_answers_503_in_its_format_within_two_seconds(server_without_database):
    http = server_without_database.session()
    base = server_without_database.url
    ngc_token, _ = tokens.issue_access_token(user_id=1, audience=NGC_AUDIENCE, scopes=["group/ngc:acme"])
    calls = {
        "ngc": ("GET", "/v2/orgs", {"Authorization": f"Bearer {ngc_token}"}),
        "token": ("GET", "/token?service=ngc", {"Authorization": BASIC}),
        "registry base": ("GET", "/v2/", {"Authorization": BASIC}),
        "registry tags": ("GET", "/v2/acme/x/tags/list", {"Authorization": BASIC}),
        "helm": ("GET", "/helm/acme/index.yaml", {"Authorization": BASIC}),
        "portal": ("GET", "/dashboard", {"Cookie": "sessionid=abcdefghijklmnopqrstuvwxyz012345"}),
    }
    # Each gunicorn worker imports the views, and the Redis client for the throttles, on first use
    # (about 1 s here, database or not); warm both workers up on fresh connections so the timing
    # below is the outage's alone. Neither warm-up request needs the database.
    for _ in range(8):
        assert http.get(base + "/v2/products", headers={"Connection": "close"}, timeout=30).status_code == 200
        assert http.get(base + "/token?service=ngc", headers={"Connection": "close"}, timeout=30).status_code == 401
    for face, (method, path, headers) in calls.items():
        started = time.monotonic()
        response = http.request(method, base + path, headers=headers, timeout=10, allow_redirects=False)
        elapsed = time.monotonic() - started

        assert response.status_code == 503, (face, response.status_code, response.text[:300])
        assert elapsed < 2, (face, elapsed)
        assert int(response.headers["Retry-After"]) > 0, face
        if face in ("ngc", "token"):
            assert response.json()["requestStatus"]["statusCode"] == "SERVICE_UNAVAILABLE"
        elif face.startswith("registry"):
            assert response.json()["errors"][0]["code"] == "UNAVAILABLE"
        elif face == "helm":
            assert "temporarily unavailable" in response.json()["error"]
        else:
            assert response.headers["Content-Type"].startswith("text/html")
            assert "Temporarily unavailable" in response.text
        assert "Traceback" not in response.text and "OperationalError" not in response.text
