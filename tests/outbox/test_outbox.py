"""The outbox's rules, run in-process (the embedded default's path): owed work is rolled back with
its transaction, a failed run stays owed and a sweep runs it again, a dead run is taken over."""
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from accounts import services as account_services
from accounts.roles import Role
from accounts.tasks import send_invitation_email
from registry_portal.outbox.models import OutboxState, OutboxTask
from registry_portal.outbox.services import outbox_enqueue, outbox_sweep
from registry_portal.cache import CacheUnavailable, DegradingRedisCache
from tests.support import servers

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    return settings


def invite(personas, email: str):
    return account_services.invitation_create(
        actor=personas.owner, org=personas.acme, email=email, team=personas.alpha, team_roles=[Role.REGISTRY_USER]
    )


def test_owed_work_is_rolled_back_with_the_transaction_that_owed_it(personas):
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox_enqueue(send_invitation_email, 12345)
        raise RuntimeError("the data's transaction fails")
    assert not OutboxTask.objects.exists()


def test_a_failed_send_stays_owed_and_a_later_sweep_delivers_it_once(personas, eager, django_capture_on_commit_callbacks):
    eager.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    eager.EMAIL_HOST, eager.EMAIL_PORT, eager.EMAIL_TIMEOUT = "127.0.0.1", servers.free_port(), 1
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invite(personas, "retry@example.test")  # answers although the SMTP server is down
    owed = OutboxTask.objects.get()
    assert (owed.state, owed.attempts, owed.args) == (OutboxState.PENDING, 1, [invitation.pk])
    assert "ConnectionRefused" in owed.last_error and owed.heartbeat_at is None
    assert owed.available_at > timezone.now()  # backed off: the next sweep leaves it alone
    assert outbox_sweep() == 0

    eager.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    OutboxTask.objects.update(available_at=timezone.now())
    assert outbox_sweep() == 1
    assert [m.to for m in mail.outbox] == [["retry@example.test"]]
    owed.refresh_from_db()
    assert (owed.state, owed.attempts) == (OutboxState.DONE, 2)
    assert outbox_sweep() == 0 and len(mail.outbox) == 1


def test_a_run_whose_heartbeat_stopped_is_taken_over_and_a_live_one_is_left_alone(personas, eager):
    dead = invite(personas, "dead@example.test")
    alive = invite(personas, "alive@example.test")
    now = timezone.now()
    OutboxTask.objects.filter(args=[dead.pk]).update(heartbeat_at=now - timedelta(minutes=5), attempts=1)
    OutboxTask.objects.filter(args=[alive.pk]).update(heartbeat_at=now - timedelta(seconds=1), attempts=1)

    assert outbox_sweep() == 1

    assert [m.to for m in mail.outbox] == [["dead@example.test"]]
    assert OutboxTask.objects.get(args=[dead.pk]).state == OutboxState.DONE
    assert OutboxTask.objects.get(args=[alive.pk]).state == OutboxState.PENDING


def test_the_redis_cache_degrades_to_no_cache_and_refuses_to_lose_an_invalidation():
    cache = DegradingRedisCache(f"redis://127.0.0.1:{servers.free_port()}/0", {"OPTIONS": {"socket_connect_timeout": 1}})
    started = time.monotonic()
    assert cache.get("key", "default") == "default"
    cache.set("key", b"value")
    assert cache.add("key", 1) is False
    with pytest.raises(CacheUnavailable):
        cache.incr("key")
    assert time.monotonic() - started < 2
