"""The identity layer's e-mails, rendered from templates/emails/."""
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from accounts import services
from accounts.models import Invitation, User


def _send(*, to: str, subject: str, template: str, context: dict) -> None:
    context = {"site_name": settings.SITE_NAME, "site_url": settings.SITE_URL, **context}
    text = render_to_string(f"emails/{template}.txt", context)
    html = render_to_string(f"emails/{template}.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[to])
    message.attach_alternative(html, "text/html")
    message.send()


def send_invitation(invitation: Invitation) -> None:
    space = invitation.org.display_name + (f" / {invitation.team.name}" if invitation.team else "")
    _send(
        to=invitation.email,
        subject=f"You are invited to {space} on {settings.SITE_NAME}",
        template="invitation",
        context={
            "invitation": invitation,
            "space": space,
            "link": services.invitation_url(invitation),
            "inviter": invitation.invited_by.get_full_name() if invitation.invited_by else settings.SITE_NAME,
        },
    )
    services.invitation_mark_sent(invitation=invitation)


def send_verification(user: User) -> None:
    token = services.email_verification_link_token(user)
    link = settings.SITE_URL + reverse("accounts:verify-email", args=[token])
    _send(to=user.email, subject=f"Verify your e-mail address for {settings.SITE_NAME}", template="verify_email",
          context={"user": user, "link": link})
