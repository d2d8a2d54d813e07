"""Two nodes behind a load balancer, on S3 (issue 15): nginx (TLS, round-robin, no stickiness, no
buffering) in front of two gunicorns from the runtime venv that share only PostgreSQL, Redis and
the S3 server (tests/support/two_nodes.py). A push whose PATCHes alternate nodes, a node killed
mid-upload, NVIDIA's ngcsdk, a portal session and garbage collection all work across the nodes.
"""
import hashlib
import json
import os
import re
import time
from datetime import timedelta

import pytest
from botocore.exceptions import ClientError
from django.conf import settings
from django.utils import timezone

from artifacts.models import Blob
from tests.support import two_nodes
from tests.support.ngcsdk import upload_then_read_model
from tests.support.oci import OCI_MANIFEST, image_manifest, sha256
from tests.support.personas import PASSWORD
from tests.support.registry_http import RawConnection, pusher

pytestmark = [pytest.mark.deployed, pytest.mark.django_db(transaction=True)]

NAME = "acme/alpha/scaled"
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def cluster(runtime_python, django_db_setup, django_db_blocker, s3_server, tmp_path_factory):
    started = two_nodes.start(
        tmp_path_factory.mktemp("two-nodes"), python=runtime_python, storage=s3_server.registry_environment(),
        queue=f"{settings.CELERY_TASK_DEFAULT_QUEUE}.two-nodes",
    )
    try:
        yield started
    finally:
        two_nodes.stop_all(started.started)


class Labels:
    """Labels for a test's requests (X-Request-Id), each unique in the run."""

    def __init__(self, prefix: str):
        self.prefix, self.count = f"{prefix}-{os.urandom(3).hex()}", 0

    def __call__(self) -> dict[str, str]:
        self.count += 1
        return {"X-Request-Id": f"{self.prefix}-{self.count}"}


def served_by(cluster, headers: dict[str, str]) -> str | None:
    return cluster.node_that_served(headers["X-Request-Id"])


class Upload:
    """One blob upload session through the balancer, written in PATCHes of the caller's sizes."""

    def __init__(self, http, base: str, data: bytes, label):
        self.http, self.base, self.data, self.label, self.offset = http, base, data, label, 0
        self.patches: list[dict] = []  # the headers (labels) of each PATCH sent
        started = http.post(f"{base}/v2/{NAME}/blobs/uploads/", headers=label())
        assert started.status_code == 202, started.text
        self.location = base + started.headers["Location"]

    def patch(self, size: int) -> None:
        end = min(self.offset + size, len(self.data))
        headers = {**self.label(), "Content-Range": f"{self.offset}-{end - 1}"}
        patched = self.http.patch(self.location, data=self.data[self.offset:end], headers=headers)
        assert patched.status_code == 202, patched.text
        assert patched.headers["Range"] == f"0-{end - 1}"
        self.location, self.offset = self.base + patched.headers["Location"], end
        self.patches.append(headers)

    def finish(self) -> str:
        """PUT the rest with the digest; the digest."""
        digest = sha256(self.data)
        done = self.http.put(f"{self.location}?digest={digest}", data=self.data[self.offset:], headers=self.label())
        assert done.status_code == 201, done.text
        assert done.headers["Docker-Content-Digest"] == digest
        return digest


def push_chunked(http, base: str, data: bytes, pieces: list[int], label) -> tuple[str, list[dict]]:
    """A blob in PATCHes of the given sizes and a closing PUT with the rest; its digest, and the
    headers of the PATCHes."""
    upload = Upload(http, base, data, label)
    for size in pieces:
        upload.patch(size)
    return upload.finish(), upload.patches


def push_manifest(http, base: str, tag: str, config: bytes, layers: dict[str, bytes]) -> str:
    document = image_manifest(sha256(config), len(config), [(digest, len(data)) for digest, data in layers.items()])
    response = http.put(f"{base}/v2/{NAME}/manifests/{tag}", data=json.dumps(document), headers={"Content-Type": OCI_MANIFEST})
    assert response.status_code == 201, response.text
    return response.headers["Docker-Content-Digest"]


def pull(http, base: str, reference: str) -> dict[str, bytes]:
    """Every blob the manifest at `reference` names, each checked against its digest and size."""
    manifest = http.get(f"{base}/v2/{NAME}/manifests/{reference}", headers={"Accept": OCI_MANIFEST})
    assert manifest.status_code == 200, manifest.text
    document = manifest.json()
    blobs = {}
    for descriptor in [document["config"], *document["layers"]]:
        blob = http.get(f"{base}/v2/{NAME}/blobs/{descriptor['digest']}")
        assert blob.status_code == 200, (descriptor, blob.status_code, blob.text[:500])
        assert sha256(blob.content) == descriptor["digest"] and len(blob.content) == descriptor["size"]
        blobs[descriptor["digest"]] = blob.content
    return blobs


def config_of(tag: str) -> bytes:
    return json.dumps({"architecture": "amd64", "os": "linux", "config": {"Labels": {"tag": tag}}}).encode()


def test_a_push_whose_patches_alternate_nodes_keeps_the_right_digest(cluster, personas):
    _, http = pusher(cluster.front, personas.alpha_registry_user)
    base, label = cluster.front.url, Labels("alternate")
    data = os.urandom(6 * MiB + 12345)

    digest, patches = push_chunked(http, base, data, [MiB + 7, 2 * MiB, MiB + 100, MiB], label)

    nodes = [served_by(cluster, headers) for headers in patches]
    assert set(nodes) == {"a", "b"} and all(x != y for x, y in zip(nodes, nodes[1:])), (nodes, cluster.logs())
    blob = http.get(f"{base}/v2/{NAME}/blobs/{digest}")
    assert blob.status_code == 200 and blob.content == data
    assert hashlib.sha256(blob.content).hexdigest() == digest.split(":")[1]


def _saved_range_end(http, url: str) -> int:
    status = http.get(url)
    assert status.status_code == 204, status.text
    return int(status.headers["Range"].split("-")[1])


def test_a_node_killed_mid_patch_and_the_client_resumes_through_the_balancer(cluster, personas):
    key, http = pusher(cluster.front, personas.alpha_registry_user)
    base = cluster.front.url
    data = os.urandom(40 * MiB)
    location = http.post(f"{base}/v2/{NAME}/blobs/uploads/").headers["Location"]

    raw = RawConnection(cluster.front, key)
    raw.sock.sendall(raw.request_bytes("PATCH", location, length=len(data)))  # announces 40 MiB, sends half
    sent = 0
    while sent < 20 * MiB:
        raw.sock.sendall(data[sent:sent + MiB])
        sent += MiB
        time.sleep(0.02)
    victim = cluster.node_reading_a_body()
    deadline = time.monotonic() + 20
    while _saved_range_end(http, base + location) == 0 and time.monotonic() < deadline:
        time.sleep(0.2)  # the node saves its progress every few MiB while the body arrives
    try:
        victim.kill()
        raw.close()

        saved = _saved_range_end(http, base + location) + 1  # through nginx: the surviving node answers
        assert 1 < saved <= sent, (saved, sent, cluster.logs())
        rest = http.patch(f"{base}{location}", data=data[saved:], headers={"Content-Range": f"{saved}-{len(data) - 1}"})
        assert rest.status_code == 202 and rest.headers["Range"] == f"0-{len(data) - 1}", rest.text
        digest = sha256(data)
        assert http.put(f"{base}{location}?digest={digest}").status_code == 201
        blob = http.get(f"{base}/v2/{NAME}/blobs/{digest}")
        assert blob.status_code == 200 and sha256(blob.content) == digest
    finally:
        if victim.process.poll() is not None:
            victim.start()
        cluster.wait_until_both_serve()


def test_nvidias_client_uploads_and_downloads_a_model_through_the_balancer(cluster, personas, tmp_path):
    files = {"weights/model.pt": os.urandom(MiB + 17), "README.md": b"# two nodes\n", "config/empty.txt": b""}
    logged_before = len(cluster.nginx_log_lines())

    upload_then_read_model(
        server=cluster.front, user=personas.alpha_registry_user, target="acme/alpha/two_nodes", files=files,
        workdir=tmp_path, logs=cluster.logs,
    )

    assert cluster.upstreams_in(cluster.nginx_log_lines()[logged_before:]) == {"a", "b"}


def _csrf_token(page) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)


def test_a_portal_session_signed_in_on_one_node_is_good_on_the_other(cluster, cast):
    http, base, label = cluster.front.session(), cluster.front.url, Labels("portal")
    form = http.get(f"{base}/accounts/signin", headers=label())
    signin = {**label(), "Referer": f"{base}/accounts/signin"}
    signed_in = http.post(
        f"{base}/accounts/signin", headers=signin, allow_redirects=False,
        data={"csrfmiddlewaretoken": _csrf_token(form), "email": cast.owner.email, "password": PASSWORD},
    )
    assert signed_in.status_code == 302 and "set-organization" in signed_in.headers["Location"], signed_in.text[:2000]
    # The session, written by one node, is read by the other: the org chosen on one shows on both.
    chooser = http.get(base + signed_in.headers["Location"], headers=label())
    chosen = {**label(), "Referer": chooser.url}
    assert http.post(
        f"{base}/accounts/set-organization", headers=chosen, allow_redirects=False,
        data={"csrfmiddlewaretoken": _csrf_token(chooser), "org": "acme", "team": ""},
    ).status_code == 302
    served = []
    for _ in range(4):
        headers = label()
        page = http.get(f"{base}/dashboard", headers=headers, allow_redirects=False)
        assert page.status_code == 200 and "Acme Corp" in page.text and cast.owner.email in page.text, page.text[:2000]
        served.append(served_by(cluster, headers))
    assert set(served) == {"a", "b"}, (served, cluster.logs())
    assert {served_by(cluster, signin), served_by(cluster, chosen)} <= {"a", "b"}


def test_gc_on_one_node_while_the_other_takes_a_push_deletes_nothing_in_use(cluster, personas, s3_server):
    # GC runs with its real grace period (a grace of 0 would rightly take a layer pushed but not yet
    # referenced by its manifest); what it may delete was linked long ago, which it does delete.
    _, http = pusher(cluster.front, personas.alpha_registry_user)
    base, label = cluster.front.url, Labels("gc")
    # Before: an image in use and a blob nothing references, both linked long ago.
    old_layer, old_config = os.urandom(300_000), config_of("old")
    old_layers = {push_chunked(http, base, old_layer, [], label)[0]: old_layer}
    old_blobs = {push_chunked(http, base, old_config, [], label)[0], *old_layers}
    push_manifest(http, base, "old", old_config, old_layers)
    garbage, _ = push_chunked(http, base, os.urandom(200_000), [], label)
    Blob.objects.filter(digest__in=[*old_blobs, garbage]).update(last_linked_at=timezone.now() - timedelta(hours=3))
    # A push under way: one layer committed but not referenced yet, the next one part-written.
    new_layers = [os.urandom(2 * MiB + 5), os.urandom(6 * MiB + 9)]
    committed, _ = push_chunked(http, base, new_layers[0], [MiB], label)
    writing = Upload(http, base, new_layers[1], label)
    writing.patch(MiB)

    gc = cluster.nodes[0].manage("gc_blobs")  # node a, the default grace (BLOB_GC_GRACE_MINUTES)
    while gc.poll() is None and writing.offset < len(new_layers[1]) - MiB:
        writing.patch(MiB // 2)  # the push goes on through the balancer while GC runs
    report, _ = gc.communicate(timeout=120)
    assert gc.returncode == 0, report + cluster.logs()
    layers = {committed: new_layers[0], writing.finish(): new_layers[1]}
    new_config = config_of("new")
    push_chunked(http, base, new_config, [], label)
    push_manifest(http, base, "new", new_config, layers)

    assert "Deleted 1 blobs" in report, report
    assert pull(http, base, "new") == {sha256(new_config): new_config, **layers}
    assert pull(http, base, "old") == {sha256(old_config): old_config, **old_layers}
    assert http.head(f"{base}/v2/{NAME}/blobs/{garbage}").status_code == 404
    assert not Blob.objects.filter(digest=garbage).exists()
    with pytest.raises(ClientError) as gone:
        s3_server.client().head_object(Bucket=s3_server.bucket, Key=f"blobs/sha256/{garbage[7:9]}/{garbage[7:]}")
    assert gone.value.response["Error"]["Code"] == "404"
    assert "b" in {served_by(cluster, headers) for headers in writing.patches}
