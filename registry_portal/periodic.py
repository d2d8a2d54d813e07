"""The periodic work without a broker: a scheduler thread in the web process.

With REDIS_URL, `celery -A registry_portal beat` sends the entries of settings.CELERY_BEAT_SCHEDULE
(the outbox sweep, blob and upload-session garbage collection) to the workers. The embedded default
has no broker and no beat, so the WSGI application starts this thread, which runs the same entries
in-process on the same periods. One process per machine runs them: the thread first takes an
exclusive lock on $REGISTRY_VAR_DIR/periodic.lock; the other gunicorn workers' threads retry it
every minute and take over when its holder exits.
"""
import fcntl
import logging
import threading
import time
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections

from registry_portal import background

log = logging.getLogger(__name__)

LOCK_RETRY_SECONDS = 60.0
FIRST_RUN_DELAY = 2.0  # let the process finish starting before the first sweep


def start_in_process_scheduler() -> threading.Thread | None:
    """Start the scheduler thread when tasks run eagerly (no REDIS_URL); None otherwise."""
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        return None
    thread = threading.Thread(target=_run_forever, name="periodic-scheduler", daemon=True)
    thread.start()
    return thread


def _run_forever() -> None:
    lock_path = Path(settings.VAR_DIR) / "periodic.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as lock:
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                time.sleep(LOCK_RETRY_SECONDS)
        log.info("periodic: running %s in this process", ", ".join(settings.CELERY_BEAT_SCHEDULE))
        _loop()


def _loop() -> None:
    # Nothing before the first run's delay: the process finishes starting (and serving) first.
    time.sleep(FIRST_RUN_DELAY)
    background.discover()  # the apps' tasks modules (a worker imports them at start)
    entries = {name: float(entry["schedule"]) for name, entry in settings.CELERY_BEAT_SCHEDULE.items()}
    started = time.monotonic()
    # The sweep first; the others after one period (as beat does for a fresh schedule).
    due = {name: started + (0.0 if name == "outbox-sweep" else period) for name, period in entries.items()}
    while True:
        name = min(due, key=due.__getitem__)
        time.sleep(max(0.0, due[name] - time.monotonic()))
        task_name = settings.CELERY_BEAT_SCHEDULE[name]["task"]
        try:
            background.task_named(task_name)()
        except Exception:  # noqa: BLE001 (logged; the next period tries again)
            log.exception("periodic: %s failed", task_name)
        finally:
            close_old_connections()
        due[name] = time.monotonic() + entries[name]
