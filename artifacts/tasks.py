"""Celery wrappers around artifact services."""
from artifacts.blobs import gc
from artifacts.gpu import tasks as gpu_tasks  # noqa: F401 (registers the GPU-check tasks with the worker)
from artifacts.versioned.transfers.finalize import FINALIZE_TASK, version_finalize
from registry_portal.background import task


@task()
def collect_blob_garbage() -> dict:
    report = gc.blob_collect_garbage()
    return vars(report)


@task(name=FINALIZE_TASK)
def finalize_version(version_id: int) -> None:
    version_finalize(version_id)
