"""The servers bench/run.py measures: this registry (gunicorn, as scripts/run starts it), the
reference registry (Debian's docker-registry, i.e. distribution 2.8), and in `--storage s3` one
SeaweedFS S3 server (tests/support/s3_server.py) with a bucket for each registry.
"""
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import harness as h
from harness import log

ROOT = Path(__file__).resolve().parent.parent
# The checkout's venv; a git worktree has none of its own, so the interpreter running the bench.
VENV_PY = ROOT / ".venv" / "bin" / "python" if (ROOT / ".venv").exists() else Path(sys.executable)
S3_BUCKETS = {"ours": "bench-ours", "reference": "bench-reference"}

GUNICORN_ARGS = h.gunicorn_args()

REFERENCE_CONFIG = """\
version: 0.1
log:
  level: info
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
{storage}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
  headers:
    X-Content-Type-Options: [nosniff]
"""
REFERENCE_FILESYSTEM = """\
  filesystem:
    rootdirectory: {root}"""
# distribution's own S3 driver (s3-aws); blob GETs redirect to presigned URLs (its default). Its upload
# purger (maintenance, minutes after start) panics walking SeaweedFS's listing of _uploads
# (purgeuploads.go:73, index out of range), so it is off; ours runs no GC during the bench either.
REFERENCE_S3 = """\
  s3:
    region: {region}
    regionendpoint: {endpoint}
    bucket: {bucket}
    accesskey: {access_key}
    secretkey: {secret_key}
    forcepathstyle: true
    secure: false
    v4auth: true
  redirect:
    disable: false
  maintenance:
    uploadpurging:
      enabled: false"""


def die(msg):
    log("ERROR: " + msg)
    raise SystemExit(2)


def wait_http(url, proc, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            die(f"server exited with {proc.returncode} before answering {url}")
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except urllib.error.HTTPError:
            return  # 401 etc.: it answers
        except OSError:
            time.sleep(0.1)
    die(f"no answer from {url} within {seconds}s")


def ensure_tool(cmd, package):
    """The command, installed with apt-get when missing; fails loudly when that is impossible."""
    path = shutil.which(cmd)
    if path:
        return path
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        die(f"`{cmd}` is missing: install the Debian package {package} (apt-get install {package})")
    log(f"installing {package} with apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-q"], env=env, check=False, stdout=subprocess.DEVNULL)
    p = subprocess.run(["apt-get", "-o", "DPkg::Lock::Timeout=300", "install", "-y", "-q",
                        "--no-install-recommends", package], env=env)
    path = shutil.which(cmd)
    if p.returncode or not path:
        die(f"apt-get install {package} failed; `{cmd}` is required")
    return path


# --- the S3 server ---------------------------------------------------------------------------


def start_s3(tmp):
    """One SeaweedFS for the run, a bucket per registry."""
    sys.path.insert(0, str(ROOT))
    from tests.support import s3_server

    tmp.mkdir()
    server = s3_server.start(tmp, bucket=S3_BUCKETS["ours"], extra_buckets=(S3_BUCKETS["reference"],))
    client = server.client()
    deadline = time.monotonic() + 30
    while True:  # created at start like the first one; wait until it answers too
        try:
            client.head_bucket(Bucket=S3_BUCKETS["reference"])
            break
        except Exception:  # noqa: BLE001 - botocore's errors, until the deadline
            if time.monotonic() > deadline:
                s3_server.stop(server)
                die("the S3 server never created the reference's bucket")
            time.sleep(0.2)
    return server, lambda: s3_server.stop(server)


# --- our registry ----------------------------------------------------------------------------


def start_ours(tmp, port, database_url, logs, s3=None):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "REGISTRY_", "SECURE_", "DATABASE_"))}
    env.update({
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Production settings, but plain http on loopback (no TLS proxy in front).
        "REGISTRY_PRODUCTION": "1",
        "SECURE_SSL_REDIRECT": "0",
        "REGISTRY_SITE_URL": f"http://127.0.0.1:{port}",
        "REGISTRY_VAR_DIR": str(tmp / "var"),
        "REGISTRY_BLOB_STORE_ROOT": str(tmp / "storage"),
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    })
    if s3 is not None:
        env.update({
            "REGISTRY_S3_BUCKET": S3_BUCKETS["ours"], "REGISTRY_S3_ENDPOINT_URL": s3.endpoint_url,
            "REGISTRY_S3_REGION": s3.region, "REGISTRY_S3_ACCESS_KEY_ID": s3.access_key,
            "REGISTRY_S3_SECRET_ACCESS_KEY": s3.secret_key, "REGISTRY_S3_ADDRESSING_STYLE": "path",
        })
    env.pop("REDIS_URL", None)  # Celery runs eagerly; no registry request enqueues work anyway
    if database_url == "sqlite":
        database_url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    else:
        h.recreate_database(database_url)
    env["DATABASE_URL"] = database_url

    def manage(*args):
        p = subprocess.run([str(VENV_PY), "manage.py", *args], cwd=ROOT, env=env,
                           capture_output=True, text=True)
        if p.returncode:
            die(f"manage.py {' '.join(args)} failed:\n{p.stdout}{p.stderr}")
        return p.stdout

    t0 = time.perf_counter()
    manage("migrate", "--noinput", "-v", "0")
    manage("createorg", "bench", "--owner", "bench@example.com")
    key = manage("apikey", "bench@example.com").strip()
    log(f"[ours] database ready ({database_url.split('@')[-1]}) in {time.perf_counter() - t0:.1f}s")
    cmd = [str(VENV_PY), "-m", "gunicorn", "registry_portal.wsgi", "--bind", f"127.0.0.1:{port}",
           *GUNICORN_ARGS, "--access-logfile", str(tmp / "access.log")]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=logs, stderr=logs,
                            start_new_session=True)
    wait_http(f"http://127.0.0.1:{port}/v2/", proc)
    return proc, key, " ".join(GUNICORN_ARGS)


# --- the reference ---------------------------------------------------------------------------


def start_reference(tmp, port, logs, s3=None):
    exe = ensure_tool("docker-registry", "docker-registry")
    if s3 is None:
        (tmp / "storage").mkdir()
        storage = REFERENCE_FILESYSTEM.format(root=tmp / "storage")
    else:
        storage = REFERENCE_S3.format(region=s3.region, endpoint=s3.endpoint_url, bucket=S3_BUCKETS["reference"],
                                      access_key=s3.access_key, secret_key=s3.secret_key)
    cfg = tmp / "config.yml"
    cfg.write_text(REFERENCE_CONFIG.format(storage=storage, port=port))
    # The AWS SDK in it panics on a custom CA bundle with its own HTTP transport; plain http here.
    env = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}
    proc = subprocess.Popen([exe, "serve", str(cfg)], cwd=tmp, env=env, stdout=logs, stderr=logs,
                            start_new_session=True)
    wait_http(f"http://127.0.0.1:{port}/v2/", proc)
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.strip()
    return proc, version
