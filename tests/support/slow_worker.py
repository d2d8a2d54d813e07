"""The real Celery app for a worker whose re-hashing of unverified blobs is slow: `celery -A
tests.support.slow_worker worker` sleeps SLOW_HASH_SECONDS before hashing each blob, so a test can
kill the worker in the middle of a version's finalisation. OUTBOX_HEARTBEAT_SECONDS, when set,
shortens the outbox heartbeat (a dead run is noticed after three missed beats) so the test need not
wait the deployed 30 s. Nothing else changes."""
import os
import time

from celery.signals import task_prerun, worker_init
from django.conf import settings

from registry_portal.celery import app

__all__ = ["app"]


@worker_init.connect
def _short_heartbeat(**kwargs) -> None:
    if seconds := os.environ.get("OUTBOX_HEARTBEAT_SECONDS"):
        settings.OUTBOX_HEARTBEAT_SECONDS = int(seconds)


@task_prerun.connect
def _slow_hashing(**kwargs) -> None:
    from artifacts.versioned.transfers import finalize

    original = finalize.blob_check_stored  # finalisation's per-blob check (it re-hashes unverified blobs)
    if getattr(original, "slowed", False):
        return

    def slow_check(digest, size, *, store=None, rehash=True):
        if rehash:
            time.sleep(float(os.environ.get("SLOW_HASH_SECONDS", "60")))
        return original(digest, size, store=store, rehash=rehash)

    slow_check.slowed = True
    finalize.blob_check_stored = slow_check
