"""Celery tasks of the identity layer: thin wrappers that load rows and call accounts.emails.
Enqueued through the outbox (accounts.services), which retries a failed send with backoff."""
from accounts import emails
from accounts.models import Invitation, User
from registry_portal.background import task


@task()
def send_invitation_email(invitation_id: int) -> None:
    invitation = Invitation.objects.select_related("org", "team", "invited_by").filter(pk=invitation_id).first()
    if invitation is not None and invitation.accepted_at is None:
        emails.send_invitation(invitation)


@task()
def send_verification_email(user_id: int) -> None:
    user = User.objects.filter(pk=user_id).first()
    if user is not None and not user.email_verified:
        emails.send_verification(user)
