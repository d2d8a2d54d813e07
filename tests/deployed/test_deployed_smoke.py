"""The deployed flows against gunicorn, the Celery worker and the scheduler running from the
runtime-only venv (tests/deployed/conftest.py): every module imports there, the health checks
answer, an invitation is e-mailed, NVIDIA's ngcsdk uploads a model and reads it back, a pushed
image gets a GPU verdict, and a Helm chart push shows in index.yaml.

The drivers (requests, ngcsdk, skopeo) run from the test venv; only the server side must make do
with requirements.txt.
"""
import hashlib
import json
import os
import re
import socket
import ssl
import subprocess
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import yaml

from accounts import services as account_services
from tests.artifacts.gpu.test_gpu_checks_live import CudaLayout
from tests.helmrepo import charts
from tests.support import servers
from tests.support.ngc_transfer import HttpTransport
from tests.support.ngcsdk import upload_then_read_model
from tests.support.skopeo import skopeo_runner

pytestmark = [pytest.mark.deployed, pytest.mark.django_db(transaction=True)]

HERE = Path(__file__).parent


def process_logs(deployment) -> str:
    """The end of each process's log, for failure messages."""
    parts = [("web", deployment.web.log_path), ("worker", deployment.worker.log_path), ("beat", deployment.beat.log_path)]
    return "".join(f"\n--- {name} log ---\n{path.read_text()[-3000:]}" for name, path in parts)


def api_as(deployment, user, scope: str = "group/ngc:acme") -> HttpTransport:
    return HttpTransport(deployment.web, api_key=account_services.api_key_generate(user=user), scope=scope)


def wait_for(read, *, until, timeout: float, what: str, deployment):
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if until(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout}s; last: {value}{process_logs(deployment)}")
        time.sleep(0.3)


def test_every_server_module_imports_in_the_runtime_venv(runtime_python):
    env = servers.deployed_environment(dict(os.environ), runtime_python, DJANGO_SETTINGS_MODULE="registry_portal.settings")
    completed = subprocess.run(
        [runtime_python, str(HERE / "import_all.py")], cwd=servers.ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    lines = completed.stdout.strip().splitlines()
    assert lines, completed.stderr[-4000:]
    report = json.loads(lines[-1])
    assert report["failed"] == {}, "\n".join(f"{name}:\n{error}" for name, error in report["failed"].items())
    assert completed.returncode == 0
    assert {"registry_portal.wsgi", "registry_portal.celery", "artifacts.oci.views", "helmrepo.index",
            "accounts.tasks", "artifacts.gpu.tasks", "ngc_cli.main"} <= set(report["imported"])


def test_the_deployed_processes_are_up_and_ready(deployment):
    http = deployment.web.session()
    assert http.get(f"{deployment.web.url}/healthz").json() == {"status": "ok"}
    ready = http.get(f"{deployment.web.url}/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok", "redis": "ok"}, ready.text
    for process in (deployment.web.process, deployment.worker, deployment.beat):
        assert process.poll() is None, process_logs(deployment)
    # One gunicorn worker per core (at most 8) by default: one Python process serves one core.
    cores = min(len(os.sched_getaffinity(0)), 8)
    assert len(servers.child_pids(deployment.web.process.pid)) == int(os.environ.get("WEB_CONCURRENCY") or cores)
    assert f".> {deployment.queue}" in deployment.worker.log_path.read_text()


def test_an_invitation_sent_through_the_deployed_web_is_mailed_by_the_deployed_worker(deployment, personas, mailbox):
    owner = api_as(deployment, personas.owner)
    reply = owner.api("POST", "/v3/orgs/acme/invitations", {
        "email": "deployed.newcomer@example.test", "name": "Dee Ployed",
        "roles": [{"name": "REGISTRY_USER", "resourceGroups": ["alpha"]}],
    })
    assert reply.status == 200, reply.content[:2000] + process_logs(deployment).encode()

    message = mailbox.wait_for(to="deployed.newcomer@example.test", subject_contains="invited", timeout=60)
    link = re.search(r"https://\S+/accounts/invitations/\S+", mailbox.text_of(message)).group(0)
    assert link.startswith(deployment.web.url)
    assert deployment.web.session().get(link).status_code == 200


def test_nvidias_client_uploads_a_model_and_reads_it_back_at_once(deployment, personas, tmp_path):
    files = {"weights/model.pt": os.urandom(96 * 1024 + 3), "README.md": b"# deployed smoke\n", "config/empty.txt": b""}

    result = upload_then_read_model(
        server=deployment.web, user=personas.alpha_registry_user, target="acme/alpha/deployed_smoke", files=files,
        workdir=tmp_path, logs=lambda: process_logs(deployment),
    )

    # Read right after the upload returned, without polling: the version is final and latest.
    assert result["info"]["model"]["latestVersionIdStr"] == "1", result
    assert result["version_info"]["modelVersion"]["totalFileCount"] == len(files)


def test_a_pushed_image_gets_a_gpu_verdict_from_the_deployed_worker(deployment, personas, tmp_path):
    host = api_as(deployment, personas.owner).api("PUT", "/v2/org/acme/gpu-hosts/a100-node", {
        "architecture": "x86_64", "driverVersion": "550.54.15", "cudaVersion": "12.4",
        "gpus": [{"name": "NVIDIA A100-SXM4-80GB", "computeCapability": "8.0"}],
    })
    assert host.status == 201, host.content[:2000]

    layout = CudaLayout(tmp_path / "layout")
    image, _ = layout.cuda_image(arch="amd64", env=["NVIDIA_REQUIRE_CUDA=cuda>=12.2", "CUDA_VERSION=12.2.2"])
    layout.tag(image, "12.2")
    skopeo = skopeo_runner(deployment.web, tmp_path)
    skopeo(personas.alpha_registry_user, "copy", f"oci:{layout.root}:12.2", "docker://REGISTRY/acme/alpha/cuda:12.2")

    reader = api_as(deployment, personas.alpha_registry_user, scope="group/ngc:acme/alpha")
    info = wait_for(
        lambda: reader.api("GET", "/v2/org/acme/team/alpha/repos/cuda/images/12.2").json(),
        until=lambda body: body.get("gpuCompatibility"), timeout=60, what="no GPU verdict", deployment=deployment,
    )
    assert [(v["host"], v["platform"], v["digest"], v["status"]) for v in info["gpuCompatibility"]] == [
        ("a100-node", "linux/amd64", image["digest"], "COMPATIBLE"),
    ]


def test_a_helm_chart_pushed_to_the_deployed_web_is_in_its_index(deployment, personas):
    helm = deployment.web.session()
    helm.auth = ("$oauthtoken", account_services.api_key_generate(user=personas.alpha_registry_user))
    package = charts.package("smoke", "0.1.0")
    pushed = helm.post(f"{deployment.web.url}/helm/api/acme/alpha/charts", data=package,
                       headers={"Content-Type": "application/gzip"})
    assert pushed.status_code == 201 and pushed.json() == {"saved": True}, pushed.text

    repo = f"{deployment.web.url}/helm/acme/alpha/"
    index = helm.get(urljoin(repo, "index.yaml"))
    assert index.status_code == 200, index.text
    entries = yaml.safe_load(index.text)["entries"]
    assert [entry["version"] for entry in entries["smoke"]] == ["0.1.0"]
    download = helm.get(urljoin(repo, entries["smoke"][0]["urls"][0]))
    assert download.status_code == 200 and download.content == package
    assert hashlib.sha256(download.content).hexdigest() == entries["smoke"][0]["digest"]


def _status_line(server, head: bytes) -> str:
    """The status line the deployed web answers a raw request head with (TLS, one connection)."""
    host, port = urlsplit(server.url).hostname, urlsplit(server.url).port
    context = ssl.create_default_context(cafile=server.ca_bundle)
    with socket.create_connection((host, port), timeout=10) as raw, context.wrap_socket(raw, server_hostname=host) as tls:
        tls.sendall(head)
        answer = b""
        while b"\r\n" not in answer:
            piece = tls.recv(4096)
            if not piece:
                break
            answer += piece
    return answer.split(b"\r\n", 1)[0].decode()


@pytest.mark.parametrize(("head", "statuses"), [
    (b"GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n", {"431"}),
    (b"GET /v2/" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", {"414"}),
    (b"G(T /v2/ HTTP/1.1\r\nHost: x\r\n\r\n", {"400"}),
    (b"GET /v2/ HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n", {"400"}),
    # gunicorn's Python parser answers 501, gunicorn-h1c 0.6.10 a plain 400: refused either way
    (b"PATCH /v2/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: x-unknown, chunked\r\n\r\n", {"400", "501"}),
], ids=["header-too-large", "request-line-too-long", "bad-method", "bad-header-name", "unknown-coding"])
def test_the_deployed_web_refuses_bad_request_heads_with_their_status_and_goes_on_serving(deployment, head, statuses):
    # The deployed web parses request heads in C (gunicorn-h1c, --http-parser fast): its limits
    # and refusals are gunicorn's, whichever parser runs.
    assert _status_line(deployment.web, head).split(" ")[1] in statuses
    assert _status_line(deployment.web, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") == "HTTP/1.1 200 OK"
