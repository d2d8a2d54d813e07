"""registry_portal.web_worker: a kept-alive connection's next request answered by the thread that answered the last."""
import http.client
import socket
import subprocess
import sys
import time
from collections import Counter
from types import SimpleNamespace

import pytest
from gunicorn.workers.gthread import ThreadWorker

from registry_portal.web_worker import WebWorker
from tests.support.servers import ROOT, free_port


def _worker(*, busy: int, alive: bool = True) -> WebWorker:
    worker = WebWorker.__new__(WebWorker)  # the state handle() reads, no gunicorn process
    worker.busy, worker.alive = busy, alive
    return worker


@pytest.fixture
def connection(monkeypatch):
    """One end of a socket pair as the connection and the other as its client; gthread's handle() of one
    request reads one byte and keeps the connection alive."""
    server, client = socket.socketpair()
    conn = SimpleNamespace(sock=server, is_http2=False, parser=SimpleNamespace(unreader=SimpleNamespace(buf=SimpleNamespace(getvalue=bytes))))
    conn.handled = 0

    def handle_one(worker, conn):
        conn.sock.recv(1)
        conn.handled += 1
        return True

    monkeypatch.setattr(ThreadWorker, "handle", handle_one)
    yield conn, client
    server.close()
    client.close()


def test_it_answers_the_requests_that_come_on_the_connection_then_hands_it_back_idle(connection):
    conn, client = connection
    client.sendall(b"abc")
    assert _worker(busy=1).handle(conn) is True and conn.handled == 3


@pytest.mark.parametrize("worker", [_worker(busy=2), _worker(busy=1, alive=False)])
def test_it_hands_the_connection_back_at_once_while_another_request_is_in_hand_or_when_stopping(connection, worker):
    conn, client = connection
    client.sendall(b"abc")
    assert worker.handle(conn) is True and conn.handled == 1


def test_requests_on_one_connection_are_answered_by_one_thread(tmp_path):
    """Live, through gunicorn."""
    port = free_port()
    command = [
        sys.executable, "-m", "gunicorn", "tests.support.thread_ident_app", "--bind", f"127.0.0.1:{port}",
        "--worker-class", "registry_portal.web_worker.WebWorker", "--workers", "1", "--threads", "4",
    ]
    log_path = tmp_path / "gunicorn.log"
    process = subprocess.Popen(command, cwd=ROOT, stdout=log_path.open("w"), stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while process.poll() is None and time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"gunicorn did not start: {log_path.read_text()}")
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        threads = Counter()
        for _ in range(20):
            client.request("GET", "/")
            threads[client.getresponse().read()] += 1
        client.close()
        # All of them but for a client stalled past LINGER_MS (a loaded machine); gthread alternates them.
        assert threads.most_common(1)[0][1] >= 18, threads
    finally:
        process.terminate()
        process.wait(30)
