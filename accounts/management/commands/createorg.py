"""`manage.py createorg NAME --owner EMAIL`: create an org and its owner on a headless server."""
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts import services
from registry_portal.errors import RegistryError


class Command(BaseCommand):
    help = "Create an org with its Org Owner, creating the owner's account if it does not exist."

    def add_arguments(self, parser):
        parser.add_argument("name", help="org name: lowercase, used in paths (e.g. acme)")
        parser.add_argument("--owner", required=True, metavar="EMAIL", help="e-mail of the Org Owner")
        parser.add_argument("--display-name", default="", help="human-readable org name (defaults to NAME)")
        parser.add_argument(
            "--password", default=None,
            help="password for the owner's account (sets it on an existing account too); "
            "without it a new account can only sign in after a password reset",
        )

    def handle(self, *args, name: str, owner: str, display_name: str, password: str | None, **options):
        try:
            with transaction.atomic():
                user, created = services.user_get_or_create(email=owner, password=password)
                org = services.org_create(name=name, display_name=display_name, owner=user)
        except RegistryError as exc:
            raise CommandError(exc.message) from None
        account = "new account" if created else "existing account"
        self.stdout.write(self.style.SUCCESS(f"Created org '{org.name}' ({org.display_name}); owner {user.email} ({account})."))
