"""`manage.py demo`: make sure the demo org exists and print how to sign in (used by scripts/run).

Idempotent. The owner's password is generated on the first run and kept in
`$REGISTRY_VAR_DIR/demo-owner-password` (mode 600, default var/); later runs reuse it and
set it on the account again, so the printed credentials always work, even against a new database.
"""
import os
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import NoReverseMatch, reverse

from accounts import services
from registry_portal.errors import RegistryError
from accounts.models import Org

DEMO_ORG = "acme"
DEMO_DISPLAY_NAME = "Acme Corp"
DEMO_OWNER = "owner@acme.example"
PASSWORD_FILE = "demo-owner-password"


def demo_password() -> str:
    """The stored demo password, generated and saved on first use."""
    path = settings.VAR_DIR / PASSWORD_FILE
    if path.exists() and path.read_text().strip():
        return path.read_text().strip()
    settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(12)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(password + "\n")
    return password


class Command(BaseCommand):
    help = f"Create the demo org '{DEMO_ORG}' and its owner if missing, and print the sign-in details."

    def add_arguments(self, parser):
        parser.add_argument("--email", default=DEMO_OWNER, help=f"owner's e-mail (default {DEMO_OWNER})")

    def handle(self, *args, email: str, **options):
        password = demo_password()
        try:
            with transaction.atomic():
                owner, _ = services.user_get_or_create(email=email, name="Demo Owner", password=password)
                org = Org.objects.filter(name=DEMO_ORG).first()
                if org is None:
                    org = services.org_create(name=DEMO_ORG, display_name=DEMO_DISPLAY_NAME, owner=owner)
                    created = "created"
                else:
                    created = "already there"
        except RegistryError as exc:
            raise CommandError(exc.message) from None
        current_owner = services.org_owner(org)
        try:
            signin = reverse(settings.LOGIN_URL)
        except NoReverseMatch:
            signin = "/"
        self.stdout.write(
            "\n".join(
                [
                    f"Demo org '{org.name}' ({org.display_name}): {created}.",
                    f"  Open:     {settings.SITE_URL}{signin}",
                    f"  E-mail:   {email}",
                    f"  Password: {password}   (kept in {settings.VAR_DIR / PASSWORD_FILE})",
                    f"  Org owner: {current_owner.email if current_owner else '-'}",
                ]
            )
        )
