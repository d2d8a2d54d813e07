"""`manage.py sso ORG --issuer URL --client-id ID (--client-secret-env VAR | --client-secret-stdin)
--domain acme.example [--domain ...] [--scopes "..."] [--allow-owner-password] [--test] | --off`."""
import sys

from django.core.management.base import BaseCommand, CommandError

from accounts import sso
from registry_portal.errors import RegistryError
from accounts.models import Org, SsoProvider


class Command(BaseCommand):
    help = "Configure an org's OpenID Connect single sign-on and its e-mail domains (guide 2.2.1)."

    def add_arguments(self, parser):
        parser.add_argument("org", help="org name")
        parser.add_argument("--issuer", help="the provider's issuer URL")
        parser.add_argument("--client-id")
        parser.add_argument("--client-secret-env", help="name of the environment variable holding the client secret")
        parser.add_argument(
            "--client-secret-stdin", action="store_true",
            help="read the secret from standard input and store it encrypted (never on the command line)",
        )
        parser.add_argument("--scopes", default="openid email profile")
        parser.add_argument("--domain", action="append", default=[], help="an e-mail domain to map (repeatable)")
        parser.add_argument("--allow-owner-password", action="store_true", help="break-glass password for the Org Owner")
        parser.add_argument("--test", action="store_true", help="then fetch discovery and JWKS and report")
        parser.add_argument("--off", action="store_true", help="remove the org's SSO configuration")

    def handle(self, *args, org: str, **options):
        org_obj = Org.objects.filter(name=org).first()
        if org_obj is None:
            raise CommandError(f"Org '{org}' does not exist.")
        try:
            if options["off"]:
                sso.provider_delete(org=org_obj, actor=None)
                self.stdout.write(self.style.SUCCESS(f"Single sign-on is off for {org_obj.name}."))
                return
            provider = SsoProvider.objects.filter(org=org_obj).first()
            if options["issuer"] or provider is None:
                if not (options["issuer"] and options["client_id"] and options["domain"]):
                    raise CommandError("--issuer, --client-id and at least one --domain are required.")
                secret = sys.stdin.readline().strip() if options["client_secret_stdin"] else None
                provider = sso.provider_configure(
                    org=org_obj, actor=None, issuer=options["issuer"], client_id=options["client_id"],
                    client_secret=secret, client_secret_env=options["client_secret_env"], scopes=options["scopes"],
                    domains=options["domain"], allow_owner_password=options["allow_owner_password"],
                )
                domains = ", ".join(provider.domains.values_list("domain", flat=True))
                self.stdout.write(self.style.SUCCESS(f"{org_obj.name} signs in {domains} through {provider.issuer}."))
                self.stdout.write(f"Redirect URI to register at the provider: {sso.redirect_uri()}")
            if options["test"]:
                for line in sso.test_connection(provider):
                    self.stdout.write(line)
        except RegistryError as exc:
            raise CommandError(exc.message) from None
