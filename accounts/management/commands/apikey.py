"""`manage.py apikey EMAIL`: print a new API key for an account (the old one stops working)."""
from django.core.management.base import BaseCommand, CommandError

from accounts import services
from accounts.models import User


class Command(BaseCommand):
    help = "Generate a new API key for an account and print it. Any previous key is invalidated."

    def add_arguments(self, parser):
        parser.add_argument("email", help="e-mail of the account")

    def handle(self, *args, email: str, **options):
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No account with e-mail {email}.")
        # Only the key goes to stdout, so `KEY=$(manage.py apikey me@x)` works; the note goes to stderr.
        self.stdout.write(services.api_key_generate(user=user))
        self.stderr.write(f"New API key for {user.email}; any previous key no longer works. It is not shown again.")
