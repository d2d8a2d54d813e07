"""Bytes under a digest are those bytes, under any interleaving of requests (issue 12.1), against
the live gunicorn: two connections writing one upload session at once, and what another org's
genuine uploads of the same content get afterwards on every face."""
import hashlib
import os
import time

import pytest

from artifacts.versioned.models import ArtifactVersion, VersionStatus
from tests.helmrepo import charts
from tests.support.ngc_transfer import HttpTransport, Uploader
from tests.support.registry_http import RawConnection, pusher
from tests.support.waiting import wait_for_status

pytestmark = pytest.mark.django_db(transaction=True)
ATTACKER_REPO = "globex/x"
ALPHA = "org/acme/team/alpha"


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _race_one_session(server, key: str, http, genuine: bytes, other: bytes) -> tuple[int, dict]:
    """POST; connection 1 PATCHes all but the last byte of `genuine`; connection 2 PATCHes all of
    `other` meanwhile; connection 1 sends its last byte; PUT ?digest=sha256(genuine) with no body.
    The second PATCH's (status, headers)."""
    base = server.url
    location = http.post(f"{base}/v2/{ATTACKER_REPO}/blobs/uploads/").headers["Location"]
    first = RawConnection(server, key, timeout=60)
    try:
        first.sock.sendall(first.request_bytes("PATCH", location, genuine[:-1], length=len(genuine)))
        time.sleep(1)  # the server has read what was sent and waits for the last byte
        second = RawConnection(server, key, timeout=60)
        try:
            second.send_request("PATCH", location, other)
            answer = second.response()
        finally:
            second.close()
        first.sock.sendall(genuine[-1:])
        status, headers, body = first.response()
        assert status == 202, body
        assert headers["range"] == f"0-{len(genuine) - 1}"
    finally:
        first.close()
    committed = http.put(f"{base}{location}?digest={_digest(genuine)}")
    assert committed.status_code in (201, 400), committed.text
    return answer[0], answer[1]


def _chart_of_about(size: int, version: str) -> bytes:
    """A valid Helm chart package of about `size` bytes (a random, incompressible file inside)."""
    return charts.package("victim", version, extra_members=[charts.file_member("victim/files/blob.bin", os.urandom(size - 2048))])


@pytest.mark.parametrize("size", [256 * 1024, 1024 * 1024, 8 * 1024 * 1024], ids=["256KiB", "1MiB", "8MiB"])
def test_a_second_writer_on_an_upload_session_is_refused_and_every_face_serves_the_genuine_bytes(
    personas, live_server_https, celery_worker, size
):
    server = live_server_https
    key, attacker = pusher(server, personas.outsider)
    genuine = _chart_of_about(size, f"1.0.{size}")
    status, headers = _race_one_session(server, key, attacker, genuine, os.urandom(2 * len(genuine)))
    # Refused with what the first writer had saved: nothing yet, or a checkpoint (the 8 MiB body passes one)
    assert status == 416 and "location" in headers, (status, headers)
    assert headers["range"] == "0-0" or int(headers["range"].split("-")[1]) < len(genuine) - 1, headers
    served = attacker.get(f"{server.url}/v2/{ATTACKER_REPO}/blobs/{_digest(genuine)}")
    assert served.status_code == 200 and served.content == genuine

    # Another org uploads the same content on every face: each serves exactly these bytes.
    victim_key, victim = pusher(server, personas.alpha_registry_user)
    repo = "acme/alpha/victim"
    assert victim.post(f"{server.url}/v2/{repo}/blobs/uploads/?digest={_digest(genuine)}", data=genuine).status_code == 201
    assert victim.get(f"{server.url}/v2/{repo}/blobs/{_digest(genuine)}").content == genuine

    api = HttpTransport(server, victim_key)
    model = f"victim{size}"
    assert api.api("POST", f"/v2/{ALPHA}/models", {"name": model, "shortDescription": "victim"}).status == 200
    assert api.api("POST", f"/v2/{ALPHA}/models/{model}/versions", {"versionId": "1.0"}).status == 200
    Uploader(api, ALPHA, "models", model, "1.0").upload_all({"chart.tgz": genuine})
    assert api.api("PATCH", f"/v2/{ALPHA}/models/{model}/versions/1.0", {"status": "UPLOAD_COMPLETE"}).status == 200
    version = wait_for_status(ArtifactVersion.objects.get(artifact__name=model, version="1.0"))
    assert version.status == VersionStatus.UPLOAD_COMPLETE, version.failure_reason
    listing = api.api("GET", f"/v2/{ALPHA}/models/{model}/1.0/files").json()
    assert api.raw("GET", listing["urls"][0]).content == genuine

    pushed = victim.post(f"{server.url}/helm/api/acme/alpha/charts", data=genuine, headers={"Content-Type": "application/gzip"})
    assert pushed.status_code == 201, pushed.text
    assert victim.get(f"{server.url}/helm/acme/alpha/charts/victim-1.0.{size}.tgz").content == genuine
