"""Without REDIS_URL there is no beat: the web process runs the periodic work itself
(registry_portal/periodic.py), so owed background work still gets done."""
import time

import pytest
import redis
from django.utils import timezone

from accounts import services as account_services
from accounts.roles import Role
from registry_portal.outbox.models import OutboxState, OutboxTask
from tests.support import servers

pytestmark = pytest.mark.django_db(transaction=True)


def test_without_redis_the_web_process_sweeps_the_outbox_and_owed_mail_goes_out(personas, settings, mailbox, tmp_path):
    lost = settings.CELERY_TASK_DEFAULT_QUEUE + "-nobody"  # a hand-over no worker will ever see
    settings.CELERY_TASK_DEFAULT_QUEUE = lost
    account_services.invitation_create(
        actor=personas.owner, org=personas.acme, email="swept@example.test", team=personas.alpha,
        team_roles=[Role.REGISTRY_USER],
    )
    redis.Redis.from_url(settings.REDIS_URL).delete(lost)
    owed = OutboxTask.objects.get()
    OutboxTask.objects.update(available_at=timezone.now())  # due now rather than after the redispatch wait

    server = servers.start_gunicorn(tmp_path, env_extra={
        "REDIS_URL": "", "OUTBOX_SWEEP_SECONDS": "1", "REGISTRY_VAR_DIR": str(tmp_path / "var"),
        "EMAIL_HOST": mailbox.host, "EMAIL_PORT": str(mailbox.port),
    })
    try:
        mailbox.wait_for(to="swept@example.test", subject_contains="invited", timeout=30)
        deadline = time.monotonic() + 10
        while owed.state != OutboxState.DONE and time.monotonic() < deadline:
            time.sleep(0.1)
            owed.refresh_from_db()
    finally:
        servers.stop(server.process)
    assert owed.state == OutboxState.DONE
    assert "periodic: running outbox-sweep, blob-gc in this process" in server.log_path.read_text()
