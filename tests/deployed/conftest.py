"""The deployed path: gunicorn, the Celery worker and the Celery scheduler started exactly as
scripts/run starts them (`scripts/serve web|worker|beat`, REDIS_URL set), from the runtime-only
venv that scripts/test builds from requirements.txt alone (.venv-runtime, named by
REGISTRY_RUNTIME_PYTHON). A package the runtime imports but requirements.txt does not name makes
these processes fail to start, so the suite fails.

The processes have their own Celery queue, blob store and var/ folder, so the test venv's live
server and worker (tests/conftest.py), which share the test database and Redis, never take their
work; the SMTP server is the session's.
"""
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

from tests.support import servers

RUNTIME_PYTHON_VARIABLE = "REGISTRY_RUNTIME_PYTHON"


@pytest.fixture(scope="package")
def runtime_python() -> str:
    """The runtime-only venv's python. Unset is a failure, never a skip: CI must prove the path."""
    python = os.environ.get(RUNTIME_PYTHON_VARIABLE, "")
    if not python:
        pytest.fail(
            f"{RUNTIME_PYTHON_VARIABLE} is not set. Run the suite with scripts/test, which builds "
            ".venv-runtime from requirements.txt alone and sets it (or set it to such a venv's python).",
            pytrace=False,
        )
    if not Path(python).is_file():
        pytest.fail(f"{RUNTIME_PYTHON_VARIABLE}={python} does not exist.", pytrace=False)
    # A venv with the test tools in it would hide exactly what this package is here to find.
    if subprocess.run([python, "-c", "import pytest"], capture_output=True).returncode == 0:
        pytest.fail(f"{RUNTIME_PYTHON_VARIABLE}={python} can import pytest: it is not a runtime-only venv.", pytrace=False)
    return python


@dataclass
class Deployment:
    web: servers.LiveServer
    worker: subprocess.Popen
    beat: subprocess.Popen
    queue: str


@pytest.fixture(scope="package")
def deployment(runtime_python, django_db_setup, tmp_path_factory, mailbox):
    """The three processes, after `scripts/serve setup` (migrate, collectstatic) from the same venv."""
    var_dir = tmp_path_factory.mktemp("deployed-var")
    queue = f"{settings.CELERY_TASK_DEFAULT_QUEUE}.deployed"
    env = {
        "EMAIL_HOST": mailbox.host,
        "EMAIL_PORT": str(mailbox.port),
        "REGISTRY_VAR_DIR": str(var_dir),
        "REGISTRY_BLOB_STORE_ROOT": str(var_dir / "storage"),
        "CELERY_QUEUE": queue,
    }
    setup = subprocess.run(
        servers.serve_command("setup"), cwd=servers.ROOT, capture_output=True, text=True, timeout=300,
        env=servers.deployed_environment(servers.server_environment(**env), runtime_python),
    )
    assert setup.returncode == 0, f"scripts/serve setup failed:\n{setup.stdout[-3000:]}{setup.stderr[-3000:]}"
    web = servers.start_gunicorn(tmp_path_factory.mktemp("deployed-web"), env_extra=env, python=runtime_python, deployed=True)
    env["REGISTRY_SITE_URL"] = web.url
    started = [web.process]
    try:
        worker = servers.start_celery_worker(
            tmp_path_factory.mktemp("deployed-worker"), env_extra=env, python=runtime_python, deployed=True
        )
        started.append(worker)
        beat = servers.start_celery_beat(tmp_path_factory.mktemp("deployed-beat"), env_extra=env, python=runtime_python)
        started.append(beat)
        yield Deployment(web=web, worker=worker, beat=beat, queue=queue)
    finally:
        for process in started:  # all at once: each shuts down gracefully, in parallel
            process.terminate()
        for process in started:
            servers.stop(process)
