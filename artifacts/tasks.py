"""Celery wrappers around artifact services."""
from celery import shared_task

from artifacts import services


@shared_task
def collect_blob_garbage() -> dict:
    report = services.blob_collect_garbage()
    return vars(report)
