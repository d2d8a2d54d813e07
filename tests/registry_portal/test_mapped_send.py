"""File bodies under gunicorn are sent from mapped windows of the file (registry_portal.mapped_send):
the same bytes `sendfile` would send, and gunicorn's file responses take that path."""
import mmap
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from gunicorn.config import Config
from gunicorn.http.wsgi import FileWrapper, Response

from registry_portal import mapped_send

ROOT = Path(__file__).resolve().parents[2]
DATA = os.urandom(50_000)


@pytest.fixture
def stored(tmp_path):
    path = tmp_path / "blob"
    path.write_bytes(DATA)
    with path.open("rb") as handle:
        yield handle


def _send(action) -> tuple[object, bytes]:
    """What `action(sock)` returns, and the bytes the other end of the socket received."""
    ours, theirs = socket.socketpair()
    received = bytearray()

    def drain():
        while chunk := theirs.recv(65536):
            received.extend(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    try:
        result = action(ours)
    finally:
        ours.close()
        reader.join()
        theirs.close()
    return result, bytes(received)


def test_it_sends_a_window_from_an_unaligned_offset_across_mapped_windows(stored, monkeypatch):
    monkeypatch.setattr(mapped_send, "WINDOW_BYTES", 2 * mmap.ALLOCATIONGRANULARITY)
    sent, received = _send(lambda sock: mapped_send.send_mapped(sock, stored, 5000, 30_000))
    assert sent == 30_000 and received == DATA[5000:35_000]
    assert stored.tell() == 35_000  # as socket.sendfile leaves it


def test_it_stops_at_the_end_of_the_file_as_sendfile_does(stored):
    sent, received = _send(lambda sock: mapped_send.send_mapped(sock, stored, 40_000, 1 << 20))
    assert sent == 10_000 and received == DATA[40_000:]
    assert _send(lambda sock: mapped_send.send_mapped(sock, stored, 60_000))[0] == 0


def test_a_file_that_cannot_be_mapped_is_sendfiled(stored, monkeypatch):
    def unmappable(*args, **kwargs):
        raise OSError(19, "No such device")

    monkeypatch.setattr(mapped_send.mmap, "mmap", unmappable)
    sent, received = _send(lambda sock: mapped_send.send_mapped(sock, stored, 100, 1000))
    assert sent == 1000 and received == DATA[100:1100]


# A file cut short after it was mapped: the kernel's copy faults inside `send`, which must be an
# OSError (EFAULT) and not a SIGBUS, which would kill the worker and every request on it. In a
# child process, so that a signal fails this test instead of killing the test run.
TRUNCATED = """
import mmap, os, socket, sys
sys.path.insert(0, {root!r})
from registry_portal import mapped_send
path = {path!r}
real_mmap = mmap.mmap
def mapped_then_cut(*args, **kwargs):
    mapped = real_mmap(*args, **kwargs)
    os.truncate(path, 4096)
    return mapped
mapped_send.mmap.mmap = mapped_then_cut
ours, theirs = socket.socketpair()
theirs.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
try:
    with open(path, "rb") as handle:
        mapped_send.send_mapped(ours, handle)
except OSError as error:
    print("OSError", error.errno)
"""


def test_a_file_cut_short_under_its_mapping_fails_the_send_without_a_signal(tmp_path):
    path = tmp_path / "blob"
    path.write_bytes(os.urandom(1 << 20))
    result = subprocess.run([sys.executable, "-c", TRUNCATED.format(root=str(ROOT), path=str(path))],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["OSError", "14"]


def _gunicorn_file_response(handle, length: int, *, chunked: bool = False) -> Response:
    request = SimpleNamespace(version=(1, 1), method="GET", headers=[], should_close=lambda: False)
    response = Response(request, None, Config())
    headers = [("Transfer-Encoding", "chunked")] if chunked else [("Content-Length", str(length))]
    response.start_response("200 OK", headers)
    if chunked:
        response.chunked = True
    return response


@pytest.mark.parametrize("chunked", [False, True])
def test_gunicorn_file_responses_are_sent_from_mappings(stored, monkeypatch, chunked):
    mapped_send.install()
    calls = []
    real = mapped_send.send_mapped
    monkeypatch.setattr(mapped_send, "send_mapped", lambda *args: calls.append(args[2:]) or real(*args))
    stored.seek(1000)  # a Range window: gunicorn sends from the file's position
    response = _gunicorn_file_response(stored, 20_000, chunked=chunked)

    def respond(sock):
        response.sock = sock
        response.write_file(FileWrapper(stored))

    _, received = _send(respond)
    head, _, body = received.partition(b"\r\n\r\n")
    assert calls == [(1000, 20_000)] if not chunked else calls == [(1000, len(DATA) - 1000)]
    expected = DATA[1000:21_000] if not chunked else DATA[1000:]
    assert body == (expected if not chunked else b"%X\r\n" % len(expected) + expected + b"\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert stored.tell() == 1000  # gunicorn puts the file back where it found it
