"""`manage.py addmember ORG EMAIL --role ROLE [--team TEAM]`: grant a role without a signed-in admin."""
from django.core.management.base import BaseCommand, CommandError

from accounts import services
from registry_portal.errors import RegistryError
from accounts.models import Org, Team, User
from accounts.roles import GRANTABLE_ROLES


class Command(BaseCommand):
    help = (
        "Grant an existing account a role in an org or one of its teams. Roles: "
        + ", ".join(GRANTABLE_ROLES)
        + " (legacy names such as REGISTRY_WRITE_ADMIN_ROLE are accepted)."
    )

    def add_arguments(self, parser):
        parser.add_argument("org", help="org name")
        parser.add_argument("email", help="e-mail of an existing account")
        parser.add_argument("--role", required=True, help="role name or legacy alias")
        parser.add_argument("--team", default=None, help="bind the role on this team instead of the org")

    def handle(self, *args, org: str, email: str, role: str, team: str | None, **options):
        org_obj = Org.objects.filter(name=org).first()
        if org_obj is None:
            raise CommandError(f"Org '{org}' does not exist.")
        team_obj = None
        if team:
            team_obj = Team.objects.filter(org=org_obj, name=team).first()
            if team_obj is None:
                raise CommandError(f"Team '{team}' does not exist in org '{org}'.")
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No account with e-mail {email}; create it first (e.g. with an invitation).")
        try:
            canonical = services.roles_from_names([role])[0]
            services.member_bootstrap(org=org_obj, user=user, role=canonical, team=team_obj)
        except RegistryError as exc:
            raise CommandError(exc.message) from None
        where = f"{org_obj.name}/{team_obj.name}" if team_obj else org_obj.name
        self.stdout.write(self.style.SUCCESS(f"{user.email} now has {canonical} in {where}."))
