"""The first push to a new repository, raced by parallel upload starts through gunicorn (docker
pushes an image's layers in parallel, so every first push races its own repository creation)."""
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from accounts import services as account_services
from artifacts.models import Repository

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

        def upload_start(http):
            start.wait()
            response = http.post(f"{live_server_https.url}/v2/{name}/blobs/uploads/", timeout=60)
            return response.status_code, response.text[:200]

        with ThreadPoolExecutor(PARALLEL) as pool:
            statuses += list(pool.map(upload_start, sessions))
        assert Repository.objects.filter(name=name).count() == 1

    assert [status for status, _ in statuses] == [202] * (4 * PARALLEL), statuses
