"""registry_portal.balanced_worker: gthread with new connections spread evenly over the workers
(scripts/lib.sh web_gunicorn_args)."""
import collections
import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from registry_portal.balanced_worker import STALE, ConnectionBoard
from tests.support.servers import ROOT, free_port

NOW = 1000.0


def _board(*rows: tuple[int, bool], pid: int | None = None) -> ConnectionBoard:
    """A table with one accepting worker per (connections, thread free) row, slots 0, 1, ..."""
    board = ConnectionBoard(slots=8)
    for slot, (connections, free) in enumerate(rows):
        board.publish(slot, NOW, pid or os.getpid(), accepting=True, connections=connections, thread_free=free)
    return board


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_worker_stops_accepting_while_it_holds_more_than_one_connection_above_another():
    board = _board((5, True), (3, True))
    assert not board.may_accept(0, NOW, 5, True)
    assert board.may_accept(0, NOW, 4, True)
    assert board.may_accept(1, NOW, 3, True)


def test_the_least_loaded_worker_accepts_whatever_the_others_hold():
    board = _board((0, True), (40, True), (7, False), (9, True))
    assert board.may_accept(0, NOW, 0, True)
    assert not board.may_accept(1, NOW, 40, True)


def test_a_worker_without_a_free_thread_leaves_new_connections_to_one_with_one():
    board = _board((2, False), (30, True))
    assert not board.may_accept(0, NOW, 2, False)
    # and one with a free thread does not wait for a less loaded worker whose threads are all busy
    assert board.may_accept(1, NOW, 30, True)
    # with no free thread anywhere, connections decide
    busy = _board((2, False), (30, False))
    assert busy.may_accept(0, NOW, 2, False) and not busy.may_accept(1, NOW, 30, False)


def test_stopping_silent_and_dead_workers_do_not_hold_the_others_back():
    board = _board((9, True))
    board.publish(1, NOW, os.getpid(), accepting=False, connections=0, thread_free=True)  # stopping
    board.publish(2, NOW - STALE - 1, os.getpid(), accepting=True, connections=0, thread_free=True)  # silent
    board.publish(3, NOW, _dead_pid(), accepting=True, connections=0, thread_free=True)  # killed
    assert board.may_accept(0, NOW, 9, True)
    board.publish(4, NOW, os.getpid(), accepting=True, connections=0, thread_free=True)  # alive and idle
    assert not board.may_accept(0, NOW, 9, True)


def test_a_new_worker_takes_a_free_row_never_a_live_workers():
    live = [os.getpid(), os.getppid(), 1]  # processes that outlive the test
    board = _board((3, True), (3, True), pid=1)
    board.clear(1)
    assert board.claim(0, live[0], NOW) == 1
    board.publish(2, NOW, _dead_pid(), accepting=True, connections=5, thread_free=True)
    board.publish(3, NOW - STALE - 1, 1, accepting=True, connections=5, thread_free=True)
    assert board.claim(2, live[1], NOW) == 2
    assert board.claim(2, live[2], NOW) == 3
    assert board.claim(0, 4242, NOW) == 4


# --- a real gunicorn ------------------------------------------------------------------------


def _burst(port: int, count: int) -> collections.Counter:
    """Open `count` connections at once (as wrk does), then one request on each: connections per worker pid."""
    sockets = []
    for _ in range(count):
        sock = socket.socket()
        sock.setblocking(False)
        sock.connect_ex(("127.0.0.1", port))
        sockets.append(sock)
    served: collections.Counter = collections.Counter()
    try:
        for sock in sockets:
            select.select([], [sock], [], 10)
            sock.setblocking(True)
            sock.settimeout(10)
        for sock in sockets:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
        for sock in sockets:
            response = b""
            while b"\r\n\r\n" not in response or not response.split(b"\r\n\r\n", 1)[1]:
                response += sock.recv(4096)
            served[int(response.split(b"\r\n\r\n", 1)[1])] += 1
    finally:
        for sock in sockets:
            sock.close()
    # The next burst starts once the workers have closed their ends: a connection the client has
    # closed still counts in its worker's row until the worker reads the EOF, and under load one
    # worker reaping later than the other tilted the next burst (18/14 seen in a full run).
    _wait(lambda: not _server_connections(port), "the workers to close their connections")
    return served


def _server_connections(port: int) -> int:
    """Connections whose local end is `port` still open on the server's side (ESTABLISHED or
    CLOSE_WAIT in /proc/net/tcp)."""
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(1 for row in rows if int(row.split()[1].split(":")[1], 16) == port and row.split()[3] in ("01", "08"))


def _workers(master: int) -> set[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True).stdout
    return {int(pid) for pid in out.split()}


def _wait(check, what: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture
def gunicorn(tmp_path):
    port = free_port()
    log = (tmp_path / "gunicorn.log").open("w")
    args = subprocess.run(["bash", "-c", 'source scripts/lib.sh && web_gunicorn_args'], cwd=ROOT, capture_output=True,
                          text=True, check=True, env={**os.environ, "WEB_CONCURRENCY": "2"}).stdout.splitlines()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "tests.support.pid_app:app", "--bind", f"127.0.0.1:{port}", *args],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        _wait(lambda: len(_workers(process.pid)) == 2 and len(_burst(port, 8)) == 2, "two workers serving")
        yield process, port
    finally:
        process.terminate()
        process.wait(30)
        log.close()


def test_connections_opened_together_are_shared_evenly_even_after_a_reload(gunicorn):
    # Plain gthread split 32 connections opened together 26/6, 29/3, even 32/0 (scripts/lib.sh).
    process, port = gunicorn
    for _ in range(5):
        served = _burst(port, 32)
        assert len(served) == 2 and max(served.values()) - min(served.values()) <= 2, served
    old = _workers(process.pid)
    process.send_signal(signal.SIGHUP)  # a reload: new workers, the old ones finish and leave
    _wait(lambda: len(_workers(process.pid)) == 2 and not _workers(process.pid) & old, "the reload")
    for _ in range(3):
        served = _burst(port, 32)
        assert set(served) <= _workers(process.pid) and max(served.values()) - min(served.values()) <= 2, served
