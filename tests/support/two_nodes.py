"""Two app nodes behind nginx, as a scaled-out deployment runs: Debian's nginx terminates TLS (test
CA) and balances round-robin, without stickiness or buffering, over two gunicorns started by
`scripts/serve web` from the runtime-only venv, plus one Celery worker. The nodes share only
PostgreSQL (the test database), Redis and the S3 server: each has its own REGISTRY_VAR_DIR,
temporary folder and (unused) local blob root, so anything kept on a node's disk shows up as a
failure on the other node.

Which node served a request is read from the nodes' own access logs: a client labels a request with
an `X-Request-Id` header, which nginx passes through and gunicorn logs (`id=<label>`).
"""
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.support import servers

# Debian's nginx (scripts/test installs it); /usr/sbin is not on every user's PATH.
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
# gunicorn's access log: the request line, status, and the client's X-Request-Id.
ACCESS_LOG_FORMAT = '"%(r)s" %(s)s id=%({x-request-id}i)s'
NGINX_CONFIG = """\
{user}worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 512; }}
http {{
    log_format nodes '$msec $request_time $http_x_request_id $upstream_addr $status "$request"';
    access_log {dir}/access.log nodes;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    # Round-robin, no stickiness; a refused connection sends the request to the other node and takes
    # the refusing one out for a second. No pool of idle upstream connections: an open connection
    # to a node is a request in progress (Node.open_connections).
    upstream registry_nodes {{
{upstreams}
    }}
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        # Registry pushes and downloads stream through: no body size limit, no buffering either way.
        client_max_body_size 0;
        proxy_request_buffering off;
        proxy_buffering off;
        proxy_http_version 1.1;
        proxy_read_timeout 3600s;
        proxy_send_timeout 3600s;
        proxy_set_header Connection "";
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-Host $http_host;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        location / {{ proxy_pass http://registry_nodes; }}
    }}
}}
"""


@dataclass
class Node:
    """One app node: `scripts/serve web` with a folder of its own."""

    name: str
    port: int
    home: Path
    env: dict[str, str]
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.home / "gunicorn.log"

    def start(self) -> None:
        """Start (or restart) the node on its port; return once it answers its readiness probe."""
        self.launch()
        self.wait_until_ready()

    def launch(self) -> None:
        with self.log_path.open("a") as log:
            self.process = subprocess.Popen(
                servers.serve_command("web"), cwd=servers.ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: kill() takes the arbiter and its workers
            )

    def wait_until_ready(self) -> None:
        def ready() -> bool:
            try:
                return requests.get(f"{self.url}/readyz", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        servers._wait_until(ready, timeout=60, what=f"node {self.name}", log_path=self.log_path, process=self.process)

    def kill(self) -> None:
        """SIGKILL the node (arbiter and workers), as a machine that dies."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def terminate(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)

    def stop(self) -> None:
        self.terminate()
        if self.process is not None:
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def served(self, label: str) -> bool:
        return f" id={label}\n" in self.log_path.read_text()

    def open_connections(self) -> int:
        """Established TCP connections to the node's port (nginx opens one per request)."""
        port = f":{self.port:04X}"
        count = 0
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            for line in Path(table).read_text().splitlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                count += local.endswith(port) and state == "01"
        return count

    def manage(self, *args: str) -> subprocess.Popen:
        """Start `manage.py ARGS` as a process of this node (its environment, the runtime venv)."""
        return subprocess.Popen(
            [self.env["REGISTRY_PYTHON"], "manage.py", *args], cwd=servers.ROOT, env=self.env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text()[-chars:] if self.log_path.exists() else ""


@dataclass
class TwoNodes:
    front: servers.LiveServer  # nginx, the URL clients use
    nodes: tuple[Node, Node]
    worker: subprocess.Popen
    started: list = field(default_factory=list)

    def node_that_served(self, label: str, *, wait: float = 3) -> str | None:
        """The name of the node whose access log has the request labelled `label`, if any within
        `wait` seconds (gunicorn logs a request just after answering it)."""
        deadline = time.monotonic() + wait
        while not (found := [node.name for node in self.nodes if node.served(label)]) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(found) <= 1, f"request {label} logged by both nodes"
        return found[0] if found else None

    def node_reading_a_body(self, timeout: float = 5) -> Node:
        """The one node with a connection open (nginx's, streaming a request body to it)."""
        deadline = time.monotonic() + timeout
        while not (busy := [node for node in self.nodes if node.open_connections()]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(busy) == 1, f"expected one node reading a body, found {[node.name for node in busy]}{self.logs()}"
        return busy[0]

    def wait_until_both_serve(self, timeout: float = 20) -> None:
        """Probe through nginx until each node has served a probe (after a restart, nginx keeps a
        node that refused out of rotation for a moment)."""
        http = self.front.session()
        deadline = time.monotonic() + timeout
        seen: set[str | None] = set()
        attempt = 0
        while time.monotonic() < deadline:
            label = f"probe-{time.monotonic_ns()}-{attempt}"
            http.get(f"{self.front.url}/healthz", headers={"X-Request-Id": label}, timeout=5)
            seen.add(self.node_that_served(label))
            if {node.name for node in self.nodes} <= seen:
                return
            attempt += 1
            time.sleep(0.2)
        raise AssertionError(f"nginx did not send requests to both nodes within {timeout}s (saw {seen})\n{self.logs()}")

    def logs(self) -> str:
        """The end of each node's log and nginx's, for failure messages."""
        parts = [(node.name, node.log_tail()) for node in self.nodes]
        parts += [("nginx access", (self.front.log_path.parent / "access.log").read_text()[-2000:]),
                  ("nginx error", self.front.log_path.read_text()[-2000:]),
                  ("worker", self.worker.log_path.read_text()[-2000:])]
        return "".join(f"\n--- {name} ---\n{text}" for name, text in parts)

    def nginx_log_lines(self) -> list[str]:
        return (self.front.log_path.parent / "access.log").read_text().splitlines()

    def upstreams_in(self, lines: list[str]) -> set[str]:
        """The nodes (by name) nginx sent the requests of these access-log lines to."""
        by_address = {f"127.0.0.1:{node.port}": node.name for node in self.nodes}
        return {by_address[address] for line in lines for address in re.findall(r"127\.0\.0\.1:\d+", line)
                if address in by_address}


def node_environment(home: Path, *, port: int, python: str, site_url: str, shared: dict[str, str]) -> dict[str, str]:
    """A node's environment: the shared services and secrets, and folders of its own."""
    (home / "tmp").mkdir(parents=True)
    own = {
        "REGISTRY_SITE_URL": site_url,
        "REGISTRY_VAR_DIR": str(home / "var"),
        "REGISTRY_BLOB_STORE_ROOT": str(home / "var" / "storage"),  # unused on S3: nothing is kept here
        "TMPDIR": str(home / "tmp"),
    }
    env = servers.server_environment(**{**own, **shared})
    return servers.deployed_environment(
        env, python, BIND_HOST="127.0.0.1", PORT=str(port),
        GUNICORN_CMD_ARGS=shlex.join(["--access-logformat", ACCESS_LOG_FORMAT]),
    )


def start_nginx(home: Path, *, port: int, upstream_ports: list[int]) -> servers.LiveServer:
    """nginx in the foreground with a configuration, pid, logs and temporary folders of its own."""
    home.mkdir()
    ca_path, cert_path, key_path = servers.issue_tls_certificate(home)
    upstreams = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=1s;" for p in upstream_ports)
    # Started as root, nginx's workers would run as `nobody`, who cannot enter pytest's private folders.
    user = "user root;\n" if os.geteuid() == 0 else ""
    config = home / "nginx.conf"
    config.write_text(NGINX_CONFIG.format(
        user=user, dir=home, port=port, cert=cert_path, key=key_path, upstreams=upstreams,
    ))
    log_path = home / "error.log"
    process = subprocess.Popen(
        [NGINX, "-p", str(home), "-c", str(config), "-e", str(log_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"https://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            return requests.get(f"{url}/healthz", verify=str(ca_path), timeout=2).status_code == 200
        except requests.RequestException:
            return False

    servers._wait_until(ready, timeout=30, what="nginx", log_path=log_path, process=process)
    return servers.LiveServer(url=url, ca_bundle=str(ca_path), process=process, log_path=log_path)


def start(home: Path, *, python: str, storage: dict[str, str], queue: str) -> TwoNodes:
    """nginx in front of nodes "a" and "b", and a Celery worker (with node a's environment);
    `storage`: the blob store's variables (S3Server.registry_environment)."""
    front_port = servers.free_port()
    site_url = f"https://127.0.0.1:{front_port}"
    shared = {
        "DJANGO_SECRET_KEY": "two-nodes-" + os.urandom(24).hex(),
        "REGISTRY_PRODUCTION": "1",  # behind a TLS proxy: X-Forwarded-Proto, secure cookies
        "REGISTRY_PROXY_COUNT": "1",
        "DJANGO_CSRF_TRUSTED_ORIGINS": site_url,
        "CELERY_QUEUE": queue,
        "CELERY_CONCURRENCY": "1",
        **storage,
    }

    def node(name: str) -> Node:
        port = servers.free_port()
        return Node(name, port, home / name, node_environment(home / name, port=port, python=python, site_url=site_url, shared=shared))

    nodes = (node("a"), node("b"))
    started: list = []
    try:
        for node in nodes:  # both nodes boot while the worker does
            node.launch()
            started.append(node)
        (home / "worker").mkdir()
        worker = servers.start_celery_worker(home / "worker", env_extra=nodes[0].env, python=python, deployed=True)
        started.append(worker)
        for node in nodes:
            node.wait_until_ready()
        front = start_nginx(home / "nginx", port=front_port, upstream_ports=[node.port for node in nodes])
        started.append(front)
    except BaseException:
        stop_all(started)
        raise
    return TwoNodes(front=front, nodes=nodes, worker=worker, started=started)


def stop_all(started: list) -> None:
    """Stop the nodes, nginx and the worker: all signalled first, so they shut down in parallel."""
    nodes = [item for item in started if isinstance(item, Node)]
    others = [item.process if isinstance(item, servers.LiveServer) else item for item in started if not isinstance(item, Node)]
    for node in nodes:
        node.terminate()
    for process in others:
        process.terminate()
    for node in nodes:
        node.stop()
    for process in others:
        servers.stop(process)
