"""Invitation e-mails travel through a real Celery worker over Redis to a local SMTP server."""
import re

import pytest

from accounts import services
from accounts.models import RoleBinding
from accounts.roles import Role


@pytest.mark.django_db(transaction=True)
def test_an_invitation_is_emailed_by_the_worker_and_its_link_is_accepted(personas, celery_worker, mailbox, live_server_https):
    sent_before = len(mailbox.messages)
    services.invitation_create(
        actor=personas.owner, org=personas.acme, email="newcomer@example.test", name="New Comer",
        team=personas.alpha, team_roles=[Role.REGISTRY_USER],
    )
    message = mailbox.wait_for(to="newcomer@example.test", subject_contains="invited", since=sent_before)
    link = re.search(r"https://\S+/accounts/invitations/\S+", mailbox.text_of(message)).group(0)
    assert link.startswith(live_server_https.url)
    token = link.rsplit("/", 1)[1]

    newcomer = services.user_create(email="newcomer@example.test", name="New Comer", password="x-very-long-pw-1")
    services.invitation_accept(token=token, user=newcomer)

    assert RoleBinding.objects.filter(user=newcomer, team=personas.alpha, role=Role.REGISTRY_USER).exists()
