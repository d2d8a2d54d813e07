"""Uploads and downloads through gunicorn: chunked request bodies (as docker and skopeo send) and
sendfile-served ranges; a worker that dies mid-PATCH, and a new worker process continuing an upload."""
import hashlib
import os
import signal
import time

import pytest

from artifacts.blobs import uploads
from tests.support import servers
from tests.support.registry_http import RawConnection, pusher

pytestmark = pytest.mark.django_db(transaction=True)
NAME = "acme/alpha/live"


def _chunks(data: bytes, size: int = 64 * 1024):
    for start in range(0, len(data), size):
        yield data[start:start + size]


def _content(seed: bytes, repeat: int) -> tuple[bytes, str]:
    data = hashlib.sha256(seed).digest() * repeat
    return data, "sha256:" + hashlib.sha256(data).hexdigest()


def test_a_chunked_transfer_encoded_upload_is_streamed_and_served_with_ranges(personas, live_server_https):
    _, http = pusher(live_server_https, personas.alpha_registry_user)
    base = live_server_https.url
    data, digest = _content(b"seed", 40000)  # 1.28 MB
    verify = live_server_https.ca_bundle

    started = http.post(f"{base}/v2/{NAME}/blobs/uploads/", verify=verify)
    assert started.status_code == 202, started.text
    location = base + started.headers["Location"]
    patched = http.patch(location, data=_chunks(data[:700000]), verify=verify)  # no Content-Length: chunked
    assert patched.status_code == 202 and patched.headers["Range"] == "0-699999"
    status = http.get(location, verify=verify)
    assert status.status_code == 204 and status.headers["Range"] == "0-699999"
    done = http.put(f"{location}?digest={digest}", data=_chunks(data[700000:]), verify=verify)
    assert done.status_code == 201, done.text

    whole = http.get(f"{base}/v2/{NAME}/blobs/{digest}", verify=verify)
    assert whole.content == data and whole.headers["Docker-Content-Digest"] == digest
    part = http.get(f"{base}/v2/{NAME}/blobs/{digest}", headers={"Range": "bytes=1000-1999"}, verify=verify)
    assert part.status_code == 206 and part.content == data[1000:2000]
    tail = http.get(f"{base}/v2/{NAME}/blobs/{digest}", headers={"Range": "bytes=1200000-"}, verify=verify)
    assert tail.status_code == 206 and tail.content == data[1200000:]


def test_a_blob_body_read_from_the_socket_keeps_the_keep_alive_connection_in_step(personas, live_server_https):
    # Blob bodies of known length are read straight from gunicorn's socket (artifacts.request_bodies),
    # headers and body in one write: the next requests on the connection must be read intact.
    key, _ = pusher(live_server_https, personas.alpha_registry_user)
    data, digest = _content(b"keep-alive", 50000)  # 1.6 MB
    raw = RawConnection(live_server_https, key)
    try:
        raw.sock.sendall(raw.request_bytes("POST", f"/v2/{NAME}/blobs/uploads/?digest={digest}", data))
        created, headers, _ = raw.response()
        assert created == 201 and headers["docker-content-digest"] == digest
        raw.sock.sendall(raw.request_bytes("HEAD", f"/v2/{NAME}/blobs/{digest}"))
        exists, headers, _ = raw.response("HEAD")
        assert exists == 200 and headers["content-length"] == str(len(data))
        raw.sock.sendall(raw.request_bytes("GET", f"/v2/{NAME}/blobs/{digest}", headers={"Range": "bytes=0-9"}))
        ranged, _, first = raw.response()
        assert ranged == 206 and first == data[:10]
    finally:
        raw.close()


def test_a_patch_cut_off_mid_body_keeps_what_arrived_and_resumes(personas, live_server_https):
    key, http = pusher(live_server_https, personas.alpha_registry_user)
    base = live_server_https.url
    data, digest = _content(b"resumed", 64000)  # 2.048 MB
    location = http.post(f"{base}/v2/{NAME}/blobs/uploads/").headers["Location"]

    raw = RawConnection(live_server_https, key)
    sent = 1_000_000
    raw.sock.sendall(raw.request_bytes("PATCH", location, data[:sent], length=len(data)))  # announces all, sends half
    time.sleep(1)  # let the server read what was sent before the connection drops
    raw.close()

    deadline = time.monotonic() + 10
    while (status := http.get(f"{base}{location}")).headers["Range"] != f"0-{sent - 1}" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert status.status_code == 204 and status.headers["Range"] == f"0-{sent - 1}"
    rest = http.patch(f"{base}{location}", data=data[sent:], headers={"Content-Range": f"{sent}-{len(data) - 1}"})
    assert rest.status_code == 202 and rest.headers["Range"] == f"0-{len(data) - 1}"
    assert http.put(f"{base}{location}?digest={digest}").status_code == 201
    assert http.get(f"{base}/v2/{NAME}/blobs/{digest}").content == data


@pytest.fixture
def one_worker_server(tmp_path):
    """A gunicorn of this test's own with a single worker process (the one to kill), on the test database."""
    server = servers.start_gunicorn(tmp_path, env_extra={"REGISTRY_BLOB_STORE_ROOT": str(tmp_path / "blobs")}, workers=1)
    yield server
    servers.stop(server.process)


def _range_end(http, url: str) -> int:
    return int(http.get(url).headers["Range"].split("-")[1])


def test_a_worker_killed_mid_patch_loses_at_most_a_checkpoint_and_the_upload_resumes(personas, one_worker_server):
    server = one_worker_server
    key, http = pusher(server, personas.alpha_registry_user)
    data = os.urandom(40 * 1024 * 1024)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    location = http.post(f"{server.url}/v2/{NAME}/blobs/uploads/").headers["Location"]
    status_url = f"{server.url}{location}"
    [worker] = servers.child_pids(server.process.pid)

    raw = RawConnection(server, key)
    sent, piece = 0, 1024 * 1024
    raw.sock.sendall(raw.request_bytes("PATCH", location, length=len(data)))
    while sent < 20 * piece:  # half the body, slowly
        raw.sock.sendall(data[sent:sent + piece])
        sent += piece
        time.sleep(0.02)
    deadline = time.monotonic() + 15
    while _range_end(http, status_url) == 0 and time.monotonic() < deadline:
        time.sleep(0.2)  # the worker saves the offset every few MiB while the body arrives
    os.kill(worker, signal.SIGKILL)
    raw.close()

    deadline = time.monotonic() + 30
    while not (restarted := [pid for pid in servers.child_pids(server.process.pid) if pid != worker]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert restarted, "gunicorn's arbiter did not start a new worker"
    saved = _range_end(http, status_url) + 1
    assert uploads.CHECKPOINT_BYTES <= saved <= sent, saved  # lost at most what followed the last checkpoint

    rest = http.patch(status_url, data=data[saved:], headers={"Content-Range": f"{saved}-{len(data) - 1}"})
    assert rest.status_code == 202 and rest.headers["Range"] == f"0-{len(data) - 1}", rest.text
    assert http.put(f"{status_url}?digest={digest}").status_code == 201
    assert http.get(f"{server.url}/v2/{NAME}/blobs/{digest}").content == data


def _bytes_read(pid: int) -> int:
    """Bytes the process has read through system calls (files and sockets alike): /proc/<pid>/io rchar."""
    for line in open(f"/proc/{pid}/io"):
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError(f"no rchar in /proc/{pid}/io")


def test_a_new_worker_process_continues_an_upload_without_reading_its_stored_bytes_back(personas, one_worker_server):
    """The running sha256 is saved with the offset: a process that never saw the upload (here the
    worker gunicorn starts after the first one exits) hashes on from the row, not from the file."""
    server = one_worker_server
    _key, http = pusher(server, personas.alpha_registry_user)
    stored, rest = os.urandom(32 * 1024 * 1024), os.urandom(1024 * 1024)
    digest = "sha256:" + hashlib.sha256(stored + rest).hexdigest()
    location = http.post(f"{server.url}/v2/{NAME}/blobs/uploads/").headers["Location"]
    status_url = f"{server.url}{location}"
    assert http.patch(status_url, data=stored, headers={"Content-Range": f"0-{len(stored) - 1}"}).status_code == 202
    [worker] = servers.child_pids(server.process.pid)
    os.kill(worker, signal.SIGTERM)

    deadline = time.monotonic() + 30
    while not (restarted := [pid for pid in servers.child_pids(server.process.pid) if pid != worker]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert restarted, "gunicorn's arbiter did not start a new worker"
    _key, http = pusher(server, personas.alpha_registry_user)  # a new connection, to the new worker
    assert http.get(status_url).headers["Range"] == f"0-{len(stored) - 1}"  # also loads the registry's code
    before = _bytes_read(restarted[0])
    done = http.put(f"{status_url}?digest={digest}", data=rest, headers={"Content-Range": f"{len(stored)}-{len(stored) + len(rest) - 1}"})
    assert done.status_code == 201, done.text
    assert _bytes_read(restarted[0]) - before < 4 * len(rest)  # the body, not the 32 MiB stored before it
    assert http.get(f"{server.url}/v2/{NAME}/blobs/{digest}").content == stored + rest
