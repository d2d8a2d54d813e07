"""The Celery app. Broker: REDIS_URL; without it tasks run eagerly (see settings).

Processes (README "Deploying"): `celery -A registry_portal worker` runs tasks; exactly one
`celery -A registry_portal beat` sends the periodic ones (settings.CELERY_BEAT_SCHEDULE: the outbox
sweep, blob and upload-session garbage collection). Without REDIS_URL the web process runs the same
schedule itself (registry_portal/periodic.py).
"""
import os
from pathlib import Path

from celery import Celery
from celery.beat import PersistentScheduler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry_portal.settings")

app = Celery("registry_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class Scheduler(PersistentScheduler):
    """Beat's default scheduler, keeping its state file under REGISTRY_VAR_DIR (created if missing)."""

    def __init__(self, *args, **kwargs):
        Path(kwargs.get("schedule_filename") or app.conf.beat_schedule_filename).parent.mkdir(parents=True, exist_ok=True)
        super().__init__(*args, **kwargs)
