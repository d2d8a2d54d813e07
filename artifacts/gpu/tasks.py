"""Celery tasks of the GPU checks; registered through artifacts/tasks.py (the worker's autodiscovery)."""
from artifacts.gpu import services
from registry_portal.background import task
from registry_portal.outbox.services import outbox_enqueue


@task()
def check_manifest(manifest_id: int) -> int:
    return services.check_manifest(manifest_id)


@task()
def check_host(host_id: int) -> int:
    return services.check_host(host_id)


def enqueue(task, *args) -> None:
    """Owe a check (an outbox row in the current transaction, handed to a worker after commit), so
    a broker outage delays it and never fails the push or the host change that triggered it."""
    outbox_enqueue(task, *args)


def manifest_pushed(manifest_id: int) -> None:
    """The manifest-put hook (called inside the push's transaction)."""
    enqueue(check_manifest, manifest_id)
