"""Registry edge cases through gunicorn over HTTPS: the first push to a new repository raced by
parallel upload starts (docker pushes an image's layers in parallel, so every first push races its
own repository creation), and Range on blob downloads streamed by the real server."""
import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from accounts import services as account_services
from artifacts.models import Repository
from tests.support.ranges import assert_ranges_per_rfc9110

pytestmark = pytest.mark.django_db(transaction=True)
PARALLEL = 8


def test_parallel_first_upload_starts_to_a_new_repository_all_get_a_session(personas, live_server_https):
    key = account_services.api_key_generate(user=personas.alpha_registry_user)
    sessions = []
    for _ in range(PARALLEL):
        http = live_server_https.session()
        http.auth = ("$oauthtoken", key)
        http.get(f"{live_server_https.url}/v2/", timeout=30)  # TLS and keep-alive set up before the race
        sessions.append(http)

    statuses = []
    for round_ in range(4):  # one lost race is enough to fail; a few rounds make losing it likely
        name = f"acme/alpha/race-{round_}"
        start = threading.Barrier(PARALLEL)

        def upload_start(http, start=start, name=name):
            start.wait()
            response = http.post(f"{live_server_https.url}/v2/{name}/blobs/uploads/", timeout=60)
            return response.status_code, response.text[:200]

        with ThreadPoolExecutor(PARALLEL) as pool:
            statuses += list(pool.map(upload_start, sessions))
        assert Repository.objects.filter(name=name).count() == 1

    assert [status for status, _ in statuses] == [202] * (4 * PARALLEL), statuses


def test_blob_ranges_stream_through_gunicorn_per_rfc9110(personas, live_server_https):
    key = account_services.api_key_generate(user=personas.alpha_registry_user)
    http = live_server_https.session()
    http.auth = ("$oauthtoken", key)
    base, name = live_server_https.url, "acme/alpha/ranged"
    data = hashlib.sha256(b"ranged").digest() * 40_000  # 1.28 MB: several reads of the file window
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    assert http.post(f"{base}/v2/{name}/blobs/uploads/?digest={digest}", data=data).status_code == 201

    def fetch(method: str, headers: dict):
        response = http.request(method, f"{base}/v2/{name}/blobs/{digest}", headers=headers)
        return response.status_code, dict(response.headers), response.content

    assert_ranges_per_rfc9110(fetch, data, error_body_key="errors")
