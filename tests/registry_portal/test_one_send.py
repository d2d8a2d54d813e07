"""A small response's head and body go out in one send (registry_portal.one_send); everything else
is written by gunicorn as before, byte for byte."""
from types import SimpleNamespace

import pytest
from gunicorn.config import Config
from gunicorn.http.wsgi import Response

from registry_portal import one_send


class RecordingSocket:
    def __init__(self):
        self.sends: list[bytes] = []

    def sendall(self, data) -> None:
        self.sends.append(bytes(data))


def _response(*, method: str = "GET", status: str = "200 OK", headers=()) -> tuple[Response, RecordingSocket]:
    one_send.install()
    request = SimpleNamespace(version=(1, 1), method=method, headers=[], should_close=lambda: False)
    sock = RecordingSocket()
    response = Response(request, sock, Config())
    response.start_response(status, list(headers))
    return response, sock


def _head_and_body(sends: list[bytes]) -> tuple[bytes, bytes]:
    head, _, body = b"".join(sends).partition(b"\r\n\r\n")
    return head, body


def test_a_small_body_written_whole_goes_out_with_its_head_in_one_send():
    body = b'{"schemaVersion": 2}' * 50
    response, sock = _response(headers=[("Content-Length", str(len(body))), ("Docker-Content-Digest", "sha256:ab")])
    response.write(body)
    response.close()
    assert len(sock.sends) == 1
    head, sent_body = _head_and_body(sock.sends)
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and b"\r\nDocker-Content-Digest: sha256:ab" in head
    assert b"\r\nContent-Length: 1000" in head and sent_body == body
    assert response.headers_sent and response.sent == len(body)


@pytest.mark.parametrize(("method", "status", "length", "writes"), [
    ("GET", "200 OK", one_send.SMALL_BODY_BYTES + 1, [b"x" * (one_send.SMALL_BODY_BYTES + 1)]),  # large
    ("GET", "200 OK", 6, [b"abc", b"def"]),  # the body in two writes
    ("HEAD", "200 OK", 6, [b""]),  # no body on the wire, Content-Length kept
    ("GET", "304 Not Modified", None, [b""]),
], ids=["large", "two-writes", "head", "not-modified"])
def test_other_responses_are_written_by_gunicorn_as_before(method, status, length, writes):
    headers = [("Content-Length", str(length))] if length is not None else []
    response, sock = _response(method=method, status=status, headers=headers)
    for data in writes:
        response.write(data)
    response.close()
    head, body = _head_and_body(sock.sends)
    assert head.startswith(f"HTTP/1.1 {status}\r\n".encode())
    assert body == (b"".join(writes) if method == "GET" and length else b"")
    assert len(sock.sends) == 1 + sum(1 for data in writes if data and method == "GET")


def test_a_chunked_response_keeps_gunicorns_framing():
    response, sock = _response(headers=[])  # no Content-Length on HTTP/1.1: gunicorn chunks it
    response.write(b"hello")
    response.close()
    head, body = _head_and_body(sock.sends)
    assert b"Transfer-Encoding: chunked" in head and body == b"5\r\nhello\r\n0\r\n\r\n"
