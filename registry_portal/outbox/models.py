"""The outbox's one table: background work recorded with the data it is about (outbox/services.py)."""
from django.db import models
from django.utils import timezone


class OutboxState(models.TextChoices):
    PENDING = "PENDING"
    DONE = "DONE"
    FAILED = "FAILED"  # gave up after OUTBOX_MAX_ATTEMPTS failures; logged as an error


class OutboxTask(models.Model):
    """One call of a Celery task (`task` by name, with `args`), owed since `created_at`."""

    task = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    state = models.CharField(max_length=10, choices=OutboxState.choices, default=OutboxState.PENDING)
    # Run by the committing process itself (cheap work a client reads right after its request)
    # rather than handed to the broker; the sweep hands it over only if that run did not finish.
    inline = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    # The sweep (re)dispatches a row that is not running once this time has passed.
    available_at = models.DateTimeField(default=timezone.now)
    dispatches = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    # Set while a run holds the row, renewed every OUTBOX_HEARTBEAT_SECONDS; a stale one is a dead run's.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        indexes = [
            models.Index(
                fields=["available_at"], name="outbox_pending_idx", condition=models.Q(state="PENDING")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)!r} [{self.state}]"
