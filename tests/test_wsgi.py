"""The WSGI entry point keeps a worker's memory flat across many threads' upload buffers."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# 16 threads each allocate and free 1 MiB buffers, as 16 gunicorn threads receiving uploads do;
# prints how much the process's RSS grew (MiB).
BUFFERS = """
import os, sys, threading
sys.path.insert(0, {root!r})
if {load_wsgi}:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry_portal.settings")
    import registry_portal.wsgi
def rss():
    return int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) / 1024
first = bytearray(1 << 20); del first  # glibc raises its mmap threshold after this free
before = rss()
barrier = threading.Barrier(16)
def receive():
    for _ in range(4):
        buffer = bytearray(1 << 20)
        barrier.wait()
        del buffer
threads = [threading.Thread(target=receive) for _ in range(16)]
[t.start() for t in threads]
[t.join() for t in threads]
print(rss() - before)
"""


def _growth(load_wsgi: bool) -> float:
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SECRET_KEY": "x" * 50}
    result = subprocess.run(
        [sys.executable, "-c", BUFFERS.format(root=str(ROOT), load_wsgi=load_wsgi)],
        capture_output=True, text=True, env=env, cwd=ROOT, check=True,
    )
    return float(result.stdout.strip().splitlines()[-1])


def test_freed_upload_buffers_go_back_to_the_os_in_a_worker():
    assert _growth(load_wsgi=False) > 8  # the C library's default: freed buffers stay in the process
    assert _growth(load_wsgi=True) < 2


# Imports the WSGI application and every view (the URLconf, as the first request does), then every
# tasks module (as a web process does to run a task itself); prints which of the packages only rare
# paths need got imported.
LOADED = """
import os, sys
sys.path.insert(0, {root!r})
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry_portal.settings")
rare = {{"authlib", "bleach", "boto3", "botocore", "celery", "cryptography", "joserfc", "jwt", "kombu", "redis"}}
import registry_portal.wsgi
from django.urls import get_resolver
get_resolver().url_patterns
print("loaded:", *sorted(rare & set(sys.modules)))
from registry_portal import background
background.discover()
print("with the tasks:", *sorted(rare & set(sys.modules)))
"""


def test_a_worker_starts_without_the_packages_only_rare_paths_need():
    # Each costs every worker memory (docs/performance.md, Memory): boto3 only with
    # REGISTRY_S3_BUCKET, redis-py only with REDIS_URL, Celery (and kombu) only to hand work to
    # Redis, Authlib, joserfc and cryptography only for single sign-on, bleach only when a Markdown
    # overview is rendered; PyJWT not at all (it imports cryptography; accounts/hs256_jwt.py).
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SECRET_KEY": "x" * 50}
    result = subprocess.run(
        [sys.executable, "-c", LOADED.format(root=str(ROOT))],
        capture_output=True, text=True, env=env, cwd=ROOT, check=True,
    )
    assert result.stdout.splitlines()[-2:] == ["loaded:", "with the tasks:"]


URLCONF_LOADED = """
import os, sys
sys.path.insert(0, {root!r})
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry_portal.settings")
import registry_portal.wsgi
print("registry_portal.urls" in sys.modules, "artifacts.apis" in sys.modules)
"""


def test_a_worker_imports_its_views_when_it_boots_not_in_its_first_request():
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SECRET_KEY": "x" * 50}
    result = subprocess.run(
        [sys.executable, "-c", URLCONF_LOADED.format(root=str(ROOT))],
        capture_output=True, text=True, env=env, cwd=ROOT, check=True,
    )
    assert result.stdout.splitlines()[-1] == "True True"


def test_the_wsgi_entry_point_installs_the_gunicorn_response_changes():
    # registry_portal.mapped_send (file bodies from mapped windows) and registry_portal.one_send
    # (a small response's head and body in one send)
    script = (f"import os, sys; sys.path.insert(0, {str(ROOT)!r}); "
              "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'registry_portal.settings'); "
              "import registry_portal.wsgi; from gunicorn.http.wsgi import Response; "
              "print(getattr(Response.sendfile, 'sends_mapped', False), getattr(Response.write, 'sends_head_with_body', False))")
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SECRET_KEY": "x" * 50}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert result.stdout.strip().splitlines()[-1:] == ["True True"], result.stderr
