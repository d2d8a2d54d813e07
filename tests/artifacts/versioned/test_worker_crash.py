"""kill -9 of the Celery worker in the middle of a version's finalisation: the outbox row stops
its heartbeat, the sweep that beat schedules hands the work to a new worker, and the version
completes with no second PATCH (before the outbox the message sat unacknowledged for an hour).
The workers beat every 2 s instead of 10 (tests.support.slow_worker): the same path, noticed sooner."""
import os
import signal
import time

import pytest

from accounts.models import User
from artifacts.models import Blob
from artifacts.tasks import finalize_version
from artifacts.versioned.transfers import finalize
from artifacts.versioned.models import ArtifactVersion, VersionStatus
from registry_portal.outbox.models import OutboxState, OutboxTask
from tests.artifacts.versioned.test_transfers import make_version
from tests.support import servers
from tests.support.ngc_transfer import DjangoTransport, Uploader
from tests.support.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

ALPHA = "org/acme/team/alpha"


def test_a_version_whose_worker_is_killed_mid_finalisation_completes_on_a_new_worker_within_a_minute(
    personas, settings, blob_root, tmp_path
):
    queue = settings.CELERY_TASK_DEFAULT_QUEUE + "-crash"  # away from the session's worker
    settings.CELERY_TASK_DEFAULT_QUEUE = queue
    user: User = personas.alpha_registry_user
    version = make_version(personas.acme, personas.alpha, "bert", "1.0", user)
    Uploader(DjangoTransport(user), ALPHA, "models", "bert", "1.0").upload_all({"weights.bin": os.urandom(64 * 1024)})
    Blob.objects.update(verified_at=None)  # bytes nothing hashed yet: a worker must re-hash them
    env = {
        "REGISTRY_BLOB_STORE_ROOT": str(blob_root), "CELERY_QUEUE": queue, "OUTBOX_SWEEP_SECONDS": "5",
        "SLOW_HASH_SECONDS": "120", "OUTBOX_HEARTBEAT_SECONDS": "2", "REGISTRY_VAR_DIR": str(tmp_path / "var"),
    }
    started = []
    try:
        for name in ("doomed", "fresh", "beat"):
            (tmp_path / name).mkdir()
        doomed = servers.start_celery_worker(tmp_path / "doomed", env_extra=env, app="tests.support.slow_worker")
        started.append(doomed)
        started.append(servers.start_celery_beat(tmp_path / "beat", env_extra=env))  # as deployed (scripts/serve)

        requested = finalize.version_request_completion(version=version, actor=user)
        assert requested.status == VersionStatus.UPLOAD_PENDING
        owed = OutboxTask.objects.get(task=finalize_version.name)
        wait_until(lambda: OutboxTask.objects.filter(pk=owed.pk, heartbeat_at__isnull=False).exists(),
                   timeout=30, what="the worker did not start the finalisation")
        time.sleep(0.5)  # inside the (slow) re-hash now
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.wait()
        killed_at = time.monotonic()
        assert ArtifactVersion.objects.get(pk=version.pk).status == VersionStatus.UPLOAD_PENDING

        env["SLOW_HASH_SECONDS"] = "0"
        started.append(servers.start_celery_worker(tmp_path / "fresh", env_extra=env, app="tests.support.slow_worker"))
        done = wait_until(
            lambda: ArtifactVersion.objects.exclude(status=VersionStatus.UPLOAD_PENDING).filter(pk=version.pk).first(),
            timeout=60 - (time.monotonic() - killed_at), what="the version did not leave UPLOAD_PENDING",
        )
        print(f"complete {time.monotonic() - killed_at:.1f} s after the kill")
        assert done.status == VersionStatus.UPLOAD_COMPLETE, done.failure_reason
        assert done.artifact.latest_version_id == version.pk
        owed.refresh_from_db()
        assert (owed.state, owed.attempts) == (OutboxState.DONE, 2)
    finally:
        for process in started:
            if process.poll() is None:
                servers.stop(process)
