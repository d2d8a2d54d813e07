"""The transactional outbox: background work is never lost and never half-answers a request.

`outbox_enqueue(task, *args)` (a task of registry_portal.background, or its name) writes a row in the caller's transaction,
so the work exists exactly when the data it is about does. Once that transaction commits the row is handed to Celery (the
generic `outbox.run` task), or run in this process: always for `inline=True` work (what a client
reads right after its request), and for everything in the embedded default (no broker). Handing
over never waits on the broker for more than REDIS_TIMEOUT_SECONDS and never raises: a broker
outage delays the work; the committed request still answers.

The periodic sweep (`outbox.sweep`, every OUTBOX_SWEEP_SECONDS from Celery beat or the embedded
scheduler, registry_portal/periodic.py) hands over again every row still pending that is not being
run: never handed over (the broker was down), handed over long ago but never started (a lost
message; the wait doubles with each hand-over), failed (exponential backoff), or whose run stopped
renewing its heartbeat (a worker killed mid-task: re-dispatched within about
3 x OUTBOX_HEARTBEAT_SECONDS + OUTBOX_SWEEP_SECONDS).

A run first claims its row (one run at a time, so a message delivered twice is harmless), renews
the heartbeat while the task works, and marks the row DONE; a failure leaves it PENDING for a later
sweep until OUTBOX_MAX_ATTEMPTS. Tasks must therefore be idempotent: take ids, load, and do nothing
when the work is already done or its subject is gone.
"""
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from registry_portal.background import Task, task_named
from registry_portal.outbox.models import OutboxState, OutboxTask

log = logging.getLogger(__name__)

SWEEP_BATCH = 500
KEEP_DONE = timedelta(days=1)  # done rows are kept this long for inspection, then purged (FAILED ones stay)
MAX_BACKOFF = timedelta(hours=1)
# After a failed hand-over this process leaves the broker alone this long (the sweep catches up),
# so requests during an outage do not each pay a connection timeout.
BROKER_RETRY_AFTER = 5.0
_broker_down_until = 0.0


RUNNER_TASK = "outbox.run"  # registry_portal.outbox.tasks.run


def _backoff(count: int) -> timedelta:
    """Wait before handing a row over again: OUTBOX_REDISPATCH_SECONDS doubled per earlier try."""
    return min(timedelta(seconds=settings.OUTBOX_REDISPATCH_SECONDS) * 2 ** min(count, 20), MAX_BACKOFF)


def _stale_before():
    return timezone.now() - timedelta(seconds=3 * settings.OUTBOX_HEARTBEAT_SECONDS)


def outbox_enqueue(task: Task | str, *args: object, inline: bool = False) -> OutboxTask:
    """Owe one call of the background task `task` (args: JSON values, usually ids), from the current
    transaction's commit on. A service below the tasks module that wraps it names the task instead
    of importing it (no import cycle). `inline`: run it in this process on commit (cheap work the
    caller's client reads next); the broker is the fallback then, not the first choice."""
    name = task if isinstance(task, str) else task.name
    row = OutboxTask.objects.create(task=name, args=list(args), inline=inline, available_at=timezone.now() + _backoff(0))
    transaction.on_commit(lambda: _hand_over(row.pk, inline=inline))
    return row


def _hand_over(outbox_id: int, *, inline: bool) -> None:
    if inline or settings.CELERY_TASK_ALWAYS_EAGER:
        outbox_run(outbox_id)
    else:
        outbox_dispatch(outbox_id)


def outbox_dispatch(outbox_id: int, *, dispatches: int = 0) -> bool:
    """Send the row to a worker; False (and the row due at the next sweep) when the broker is down.
    The runner is sent by its name: the tasks module imports this one, never the reverse."""
    global _broker_down_until
    from registry_portal.celery import app  # only a process that hands work to a broker needs Celery

    try:
        if time.monotonic() < _broker_down_until:
            raise ConnectionError("the broker failed moments ago")
        app.send_task(RUNNER_TASK, (outbox_id,), queue=settings.CELERY_TASK_DEFAULT_QUEUE, retry=False)
    except Exception as exc:  # noqa: BLE001 (kombu, redis-py and socket errors alike: the broker is unreachable)
        if time.monotonic() >= _broker_down_until:
            log.warning("outbox: could not hand task %s to the broker (%s); the sweep will", outbox_id, exc)
        _broker_down_until = time.monotonic() + BROKER_RETRY_AFTER
        OutboxTask.objects.filter(pk=outbox_id, state=OutboxState.PENDING).update(available_at=timezone.now())
        return False
    OutboxTask.objects.filter(pk=outbox_id, state=OutboxState.PENDING).update(
        dispatches=F("dispatches") + 1, available_at=timezone.now() + _backoff(dispatches + 1)
    )
    return True


def outbox_run(outbox_id: int) -> bool:
    """Run the row's task here if no live run holds it; True when it is done by this run."""
    now = timezone.now()
    claimed = (
        OutboxTask.objects.filter(pk=outbox_id, state=OutboxState.PENDING)
        .filter(Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=_stale_before()))
        .update(heartbeat_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return False  # done, given up, or being run elsewhere
    row = OutboxTask.objects.get(pk=outbox_id)
    try:
        task = task_named(row.task)
        with _heartbeat(outbox_id):
            task.run(*row.args)
    except Exception as exc:  # noqa: BLE001 (any failure of the task: retried later, never lost)
        gave_up = row.attempts >= settings.OUTBOX_MAX_ATTEMPTS
        (log.error if gave_up else log.warning)(
            "outbox: %s failed (attempt %s)%s", row, row.attempts, ", giving up" if gave_up else "", exc_info=True
        )
        OutboxTask.objects.filter(pk=outbox_id).update(
            state=OutboxState.FAILED if gave_up else OutboxState.PENDING,
            heartbeat_at=None,
            finished_at=timezone.now() if gave_up else None,
            available_at=timezone.now() + _backoff(row.attempts - 1),
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        return False
    OutboxTask.objects.filter(pk=outbox_id).update(
        state=OutboxState.DONE, heartbeat_at=None, finished_at=timezone.now(), last_error=""
    )
    return True


@contextmanager
def _heartbeat(outbox_id: int) -> Iterator[None]:
    """Renew the row's claim every OUTBOX_HEARTBEAT_SECONDS while the body runs (from a thread with
    its own connection, touched only by runs longer than one interval)."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(settings.OUTBOX_HEARTBEAT_SECONDS):
                try:
                    OutboxTask.objects.filter(pk=outbox_id, state=OutboxState.PENDING).update(heartbeat_at=timezone.now())
                except Exception:  # noqa: BLE001 (a missed beat only lets the sweep re-dispatch a duplicate)
                    log.warning("outbox: heartbeat of %s failed", outbox_id, exc_info=True)
        finally:
            connections.close_all()

    thread = threading.Thread(target=beat, name=f"outbox-heartbeat-{outbox_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def outbox_sweep() -> int:
    """Hand over every pending row that is due (see the module's docstring); the number handed over.
    Stops at the first broker failure (the next sweep goes on); purges rows finished long ago."""
    now = timezone.now()
    stale = _stale_before()
    due = list(
        OutboxTask.objects.filter(state=OutboxState.PENDING)
        .filter(Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, available_at__lte=now))
        .order_by("available_at")
        .values_list("pk", "dispatches", "heartbeat_at")[:SWEEP_BATCH]
    )
    handed = 0
    for outbox_id, dispatches, heartbeat_at in due:
        if heartbeat_at is not None:
            log.warning("outbox: task %s stopped its heartbeat (its worker died?); handing it over again", outbox_id)
            OutboxTask.objects.filter(pk=outbox_id, heartbeat_at__lt=stale).update(heartbeat_at=None)
        if settings.CELERY_TASK_ALWAYS_EAGER:
            outbox_run(outbox_id)
        elif not outbox_dispatch(outbox_id, dispatches=dispatches):
            break
        handed += 1
    OutboxTask.objects.filter(state=OutboxState.DONE, finished_at__lt=now - KEEP_DONE).delete()
    return handed
