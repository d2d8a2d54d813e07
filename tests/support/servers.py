"""Real processes for tests: an HTTPS gunicorn serving the app, a Celery worker over Redis and
the Celery scheduler, all pointed at pytest-django's test database, plus a local SMTP server
(aiosmtpd).

`python` picks the interpreter (the test venv's by default; the deployed smoke passes
.venv-runtime's). With `deployed=True` a process is started by `scripts/serve ROLE`, the command
scripts/run uses, rather than by the tests' own command line.
"""
import email
import email.policy
import os
import shlex
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_database_url() -> str:
    """The URL of the database pytest-django created, for other processes."""
    params = connection.settings_dict
    if connection.vendor != "postgresql":
        raise RuntimeError("Tests with live servers need PostgreSQL: set DATABASE_URL (scripts/test does).")
    user = params.get("USER") or "postgres"
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    host = params.get("HOST") or "127.0.0.1"
    port = params.get("PORT") or 5432
    return f"postgresql://{user}{password}@{host}:{port}/{params['NAME']}"


def server_environment(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=test_database_url(),
        DATABASE_CONN_MAX_AGE="0",
        DJANGO_SETTINGS_MODULE="registry_portal.settings",
        DJANGO_DEBUG="0",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def deployed_environment(env: dict[str, str], python: str, **extra: str) -> dict[str, str]:
    """The environment of a `scripts/serve` process run by `python`. Nothing of the test venv may
    leak into it: a PYTHONPATH would hand the runtime the test tools' packages."""
    env = {key: value for key, value in env.items() if key not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(REGISTRY_PYTHON=python, **extra)
    return env


def serve_command(role: str) -> list[str]:
    """scripts/serve's command for a process (web, worker, beat): what scripts/run starts."""
    return ["bash", str(ROOT / "scripts" / "serve"), role]


def reset_throttles() -> None:
    """Forget every throttle count (registry_portal.throttling), for this process and live servers."""
    from django.core.cache import caches

    config = settings.CACHES["throttle"]
    if "RedisCache" not in config["BACKEND"]:
        caches["throttle"].clear()
        return
    import redis

    client = redis.Redis.from_url(config["LOCATION"])
    keys = list(client.scan_iter(f"{config['KEY_PREFIX']}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@dataclass
class LiveServer:
    url: str
    ca_bundle: str
    process: subprocess.Popen
    log_path: Path

    def session(self) -> requests.Session:
        """A requests session that trusts the test CA."""
        http = requests.Session()
        # Not trust_env: the machine's REQUESTS_CA_BUNDLE would override the session's `verify`.
        http.trust_env = False
        http.verify = self.ca_bundle
        return http


def _wait_until(
    check, *, timeout: float, what: str, log_path: Path | None = None, process: subprocess.Popen | None = None
) -> None:
    """Poll `check` until it is true; RuntimeError with the log's tail when `process` exits first
    or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited early:\n{_log_tail(log_path)}")
        if check():
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not become ready in {timeout}s.\n{_log_tail(log_path)}")


def _log_tail(log_path: Path | None) -> str:
    return log_path.read_text()[-4000:] if log_path and log_path.exists() else ""


def issue_tls_certificate(tmp_dir: Path) -> tuple[Path, Path, Path]:
    """A fresh test CA and a server certificate for 127.0.0.1 and localhost (trustme), written to
    `tmp_dir`: the paths of the CA, the certificate chain and its private key."""
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca_path, cert_path, key_path = tmp_dir / "ca.pem", tmp_dir / "server.pem", tmp_dir / "server.key"
    ca.cert_pem.write_to_path(str(ca_path))
    cert.cert_chain_pems[0].write_to_path(str(cert_path))
    for extra in cert.cert_chain_pems[1:]:
        extra.write_to_path(str(cert_path), append=True)
    cert.private_key_pem.write_to_path(str(key_path))
    return ca_path, cert_path, key_path


def web_gunicorn_args() -> list[str]:
    """The worker settings `scripts/serve web` runs (scripts/lib.sh web_gunicorn_args: worker class,
    access logger, ...), so every live test goes through the deployed worker, not plain gthread."""
    return subprocess.run(
        ["bash", "-c", 'source "$1/scripts/lib.sh" && web_gunicorn_args', "-", str(ROOT)],
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()


def start_gunicorn(
    tmp_dir: Path, *, env_extra: dict[str, str], python: str = sys.executable, deployed: bool = False, workers: int = 2
) -> LiveServer:
    ca_path, cert_path, key_path = issue_tls_certificate(tmp_dir)
    port = free_port()
    url = f"https://127.0.0.1:{port}"
    log_path = tmp_dir / "gunicorn.log"
    env = server_environment(REGISTRY_SITE_URL=url, **env_extra)
    if deployed:
        tls = shlex.join(["--certfile", str(cert_path), "--keyfile", str(key_path)])
        command = serve_command("web")
        env = deployed_environment(env, python, BIND_HOST="127.0.0.1", PORT=str(port), GUNICORN_CMD_ARGS=tls)
    else:
        command = [
            python, "-m", "gunicorn", "registry_portal.wsgi",
            "--bind", f"127.0.0.1:{port}", "--certfile", str(cert_path), "--keyfile", str(key_path),
            *web_gunicorn_args(),  # the deployed settings; the test's own below win (gunicorn: the last one does)
            "--workers", str(workers), "--threads", "8", "--timeout", "300",
            "--access-logfile", "-", "--error-logfile", "-",
        ]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log_path.open("w"), stderr=subprocess.STDOUT)

    def ready() -> bool:
        try:
            return requests.get(f"{url}/v2/products", verify=str(ca_path), timeout=2).status_code == 200
        except requests.RequestException:
            return False

    _wait_until(ready, timeout=60, what="gunicorn", log_path=log_path, process=process)
    return LiveServer(url=url, ca_bundle=str(ca_path), process=process, log_path=log_path)


def child_pids(pid: int) -> list[int]:
    """The processes whose parent is `pid` (gunicorn's workers, of its arbiter)."""
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(entry))
    return children


def _start_logged(command: list[str], env: dict[str, str], log_path: Path, *, what: str, ready_text: str) -> subprocess.Popen:
    """Start a process logging to `log_path`; return it once that log shows `ready_text`."""
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log_path.open("w"), stderr=subprocess.STDOUT)
    _wait_until(lambda: ready_text in log_path.read_text(), timeout=60, what=what, log_path=log_path, process=process)
    process.log_path = log_path
    return process


def start_celery_worker(
    tmp_dir: Path, *, env_extra: dict[str, str], python: str = sys.executable, deployed: bool = False,
    app: str = "registry_portal",
) -> subprocess.Popen:
    """A worker on CELERY_QUEUE (from `env_extra`, else this run's queue); `app` may name a test
    module wrapping the real Celery app (tests/support/slow_worker.py)."""
    if not settings.REDIS_URL:
        raise RuntimeError("The Celery worker needs REDIS_URL (scripts/test sets it).")
    env = server_environment(**env_extra)
    if deployed:
        command, env = serve_command("worker"), deployed_environment(env, python)
    else:
        command = [
            python, "-m", "celery", "-A", app, "worker", "--pool", "solo",
            "--queues", env.get("CELERY_QUEUE", settings.CELERY_TASK_DEFAULT_QUEUE), "--without-heartbeat",
            "--without-gossip", "--without-mingle", "--loglevel", "INFO",
        ]
    return _start_logged(command, env, tmp_dir / "celery.log", what="celery worker", ready_text="ready.")


def start_celery_beat(tmp_dir: Path, *, env_extra: dict[str, str], python: str = sys.executable) -> subprocess.Popen:
    """The Celery scheduler as deployed (`scripts/serve beat`); its state file goes to
    REGISTRY_VAR_DIR, which `env_extra` should point at a temporary folder."""
    if not settings.REDIS_URL:
        raise RuntimeError("The Celery scheduler needs REDIS_URL (scripts/test sets it).")
    env = deployed_environment(server_environment(**env_extra), python)
    return _start_logged(serve_command("beat"), env, tmp_dir / "beat.log", what="celery beat", ready_text="beat: Starting")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class Mailbox:
    """Messages received by the local SMTP server."""

    host: str
    port: int
    messages: list = field(default_factory=list)
    _lock: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)
            self._lock.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, *, to: str, subject_contains: str = "", timeout: float = 30, since: int = 0):
        """Block until a message to `to` (whose subject contains the text) arrives; return it.
        `since`: skip the first messages (`len(mailbox.messages)` before the test sent its own), as
        the mailbox lives for the whole run and an earlier test may have mailed the same address."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                for message in self.messages[since:]:
                    if to.lower() in str(message["To"]).lower() and subject_contains in str(message["Subject"]):
                        return message
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no e-mail to {to} ({subject_contains!r}) within {timeout}s")
                self._lock.wait(remaining)

    @staticmethod
    def text_of(message) -> str:
        part = message.get_body(preferencelist=("plain",))
        return part.get_content() if part else ""


def start_smtp() -> tuple[Mailbox, Controller]:
    port = free_port()
    mailbox = Mailbox(host="127.0.0.1", port=port)
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    return mailbox, controller
