"""The Celery app. Broker: REDIS_URL; without it tasks run eagerly (see settings).

Processes (README "Deploying"): `celery -A registry_portal worker` runs tasks; exactly one
`celery -A registry_portal beat` sends the periodic ones (settings.CELERY_BEAT_SCHEDULE: the outbox
sweep, blob and upload-session garbage collection). Without REDIS_URL the web process runs the same
schedule itself (registry_portal/periodic.py).

A web process imports this module only to hand work to Redis: the apps declare their tasks with
registry_portal.background, and the app below makes Celery tasks of them (Celery's `-A
registry_portal` finds `registry_portal.celery.app`).
"""
import os
from pathlib import Path

from celery import Celery
from celery.beat import PersistentScheduler

from registry_portal import background

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry_portal.settings")

app = Celery("registry_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _register(task: background.Task) -> None:
    app.task(name=task.name, **task.options)(task.run)


background.on_declare(_register)


class Scheduler(PersistentScheduler):
    """Beat's default scheduler, keeping its state file under REGISTRY_VAR_DIR (created if missing)."""

    def __init__(self, *args, **kwargs):
        Path(kwargs.get("schedule_filename") or app.conf.beat_schedule_filename).parent.mkdir(parents=True, exist_ok=True)
        super().__init__(*args, **kwargs)
