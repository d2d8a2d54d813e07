"""A streamed push (one PATCH, Transfer-Encoding: chunked, as docker, containerd and podman send
it) through gunicorn, framed byte for byte: the bytes stored are exactly the data sent, whatever
the frame sizes, extensions, trailers and the way the framing is split across reads; broken
framing is refused in the registry's error format."""
import hashlib
import json
import socket
import time

import pytest

from tests.support.registry_http import RawConnection, pusher

pytestmark = pytest.mark.django_db(transaction=True)
NAME = "acme/alpha/streamed"


def _framed(frames: list[bytes]) -> bytes:
    parts = []
    for i, frame in enumerate(frames):
        size = f"{len(frame):x}".upper() if i % 2 else f"{len(frame):x}"
        extension = f";frame={i};note=\"x;y\"" if i % 3 == 0 else ""
        parts.append(f"{size}{extension}\r\n".encode() + frame + b"\r\n")
    return b"".join(parts) + b"0\r\nX-Content-Sha: ignored\r\n\r\n"


def test_a_streamed_patch_stores_exactly_the_bytes_sent(personas, live_server_https):
    key, http = pusher(live_server_https, personas.alpha_registry_user)
    seed = hashlib.sha256(b"streamed").digest()
    frames = [seed * (n // 32 + 1) for n in (1, 7, 32 * 1024, 65539, 100, 32 * 1024 + 3, 5)]
    frames = [frame[:n] for frame, n in zip(frames, (1, 7, 32 * 1024, 65539, 100, 32 * 1024 + 3, 5), strict=True)]
    data = b"".join(frames)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    location = http.post(f"{live_server_https.url}/v2/{NAME}/blobs/uploads/").headers["Location"]

    raw = RawConnection(live_server_https, key)
    try:
        raw.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        wire = raw.request_bytes("PATCH", location, chunked=True) + _framed(frames)
        # pauses inside a size line, inside a frame's closing CRLF and inside the trailers: the
        # server's reads end there
        size_line = wire.index(b"\r\n8003") + 4
        crlf = wire.index(b"\r\n", wire.index(b"\r\n8003") + 7 + 32 * 1024 + 3) + 1
        cuts = [size_line, crlf, len(wire) - 10]
        for start, stop in zip([0, *cuts], [*cuts, len(wire)], strict=True):
            raw.sock.sendall(wire[start:stop])
            time.sleep(0.05)
        status, headers, _ = raw.response()
        assert status == 202 and headers["range"] == f"0-{len(data) - 1}"
        # the same connection goes on: the body's end was found where it is
        raw.sock.sendall(raw.request_bytes("PUT", f"{location}?digest={digest}", chunked=True) + b"0\r\n\r\n")
        status, headers, _ = raw.response()
        assert status == 201 and headers["docker-content-digest"] == digest
    finally:
        raw.close()
    assert http.get(f"{live_server_https.url}/v2/{NAME}/blobs/{digest}").content == data


def test_broken_chunk_framing_is_refused_with_an_oci_error(personas, live_server_https):
    key, http = pusher(live_server_https, personas.alpha_registry_user)
    location = http.post(f"{live_server_https.url}/v2/{NAME}/blobs/uploads/").headers["Location"]
    raw = RawConnection(live_server_https, key)
    try:
        raw.sock.sendall(raw.request_bytes("PATCH", location, chunked=True) + b"5\r\nhello\r\nzz\r\nxx\r\n0\r\n\r\n")
        status, headers, body = raw.response()
    finally:
        raw.close()
    assert status == 400 and headers["content-type"].startswith("application/json")
    [error] = json.loads(body)["errors"]
    assert error["code"] == "BLOB_UPLOAD_INVALID" and "hexadecimal" in error["message"]
    # what arrived before the broken frame is kept for a resume
    assert http.get(f"{live_server_https.url}{location}").headers["Range"] == "0-4"
