"""The outbox's Celery tasks: the generic runner every enqueued call goes through, and the sweep."""
from celery import shared_task

from registry_portal.outbox import services


@shared_task(name=services.RUNNER_TASK, acks_late=True, reject_on_worker_lost=True)
def run(outbox_id: int) -> None:
    services.outbox_run(outbox_id)


@shared_task(name="outbox.sweep")
def sweep() -> int:
    return services.outbox_sweep()
