"""The outbox's Celery tasks: the generic runner every enqueued call goes through, and the sweep."""
from registry_portal.background import task
from registry_portal.outbox import services


@task(name=services.RUNNER_TASK, acks_late=True, reject_on_worker_lost=True)
def run(outbox_id: int) -> None:
    services.outbox_run(outbox_id)


@task(name="outbox.sweep")
def sweep() -> int:
    return services.outbox_sweep()
