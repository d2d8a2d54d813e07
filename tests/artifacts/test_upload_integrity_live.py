"""Bytes under a digest are those bytes, under any interleaving of requests (issue 12.1), against
the live gunicorn: two connections writing one upload session at once, and what another org's
genuine uploads of the same content get afterwards on every face."""
import hashlib
import os
import time

import pytest

from tests.support.registry_http import RawConnection, pusher

pytestmark = pytest.mark.django_db(transaction=True)
ATTACKER_REPO = "globex/x"


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


@pytest.mark.parametrize("size", [256 * 1024, 1024 * 1024, 8 * 1024 * 1024], ids=["256KiB", "1MiB", "8MiB"])
def test_a_second_writer_on_an_upload_session_is_refused_and_the_digest_serves_its_own_bytes(personas, live_server_https, size):
    key, http = pusher(live_server_https, personas.outsider)
    genuine, other = os.urandom(size), os.urandom(2 * size)
    status, headers = _race_one_session(live_server_https, key, http, genuine, other)
    assert status == 416 and headers["range"] == "0-0" and "location" in headers, (status, headers)
    served = http.get(f"{live_server_https.url}/v2/{ATTACKER_REPO}/blobs/{_digest(genuine)}")
    assert served.status_code == 200 and served.content == genuine
