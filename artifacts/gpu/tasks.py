"""Celery tasks of the GPU checks; registered through artifacts/tasks.py (the worker's autodiscovery)."""
import logging

from celery import shared_task

from artifacts.gpu import services

logger = logging.getLogger(__name__)


@shared_task
def check_manifest(manifest_id: int) -> int:
    return services.check_manifest(manifest_id)


@shared_task
def check_host(host_id: int) -> int:
    return services.check_host(host_id)


def enqueue(task, *args) -> None:
    """Send a task; a broker outage must not fail the push or the host change that triggered it."""
    try:
        task.delay(*args)
    except Exception:  # noqa: BLE001
        logger.exception("could not enqueue %s%r", task.name, args)


def manifest_pushed(manifest_id: int) -> None:
    """The manifest-put hook (run on commit)."""
    enqueue(check_manifest, manifest_id)
