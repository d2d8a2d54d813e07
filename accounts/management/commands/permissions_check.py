"""`manage.py permissions_check [--fix]`: recompute every user's guardian rows from their role
bindings and print where the stored rows differ (exit 1 on drift; `--fix` rewrites them)."""
from django.core.management.base import BaseCommand, CommandError

from accounts import permissions
from accounts.models import Org, OrgUserObjectPermission, RoleBinding, TeamUserObjectPermission, User


def _user_org_pairs() -> set[tuple[int, int]]:
    """Every (user, org) with a binding or a stored permission row there."""
    pairs = set(RoleBinding.objects.values_list("user_id", "org_id"))
    pairs |= set(OrgUserObjectPermission.objects.values_list("user_id", "content_object_id"))
    pairs |= set(TeamUserObjectPermission.objects.values_list("user_id", "content_object__org_id"))
    return pairs


class Command(BaseCommand):
    help = "Compare the guardian permission rows with what the role bindings give; --fix rewrites drifted ones."

    def add_arguments(self, parser):
        parser.add_argument("--fix", action="store_true", help="re-sync every user and org that drifted")

    def handle(self, *args, fix: bool = False, **options):
        pairs = sorted(_user_org_pairs())
        users = User.objects.in_bulk({user_id for user_id, _ in pairs})
        orgs = Org.objects.in_bulk({org_id for _, org_id in pairs})
        drifted = 0
        for user_id, org_id in pairs:
            user, org = users[user_id], orgs[org_id]
            lines = permissions.permission_drift(user=user, org=org)
            if not lines:
                continue
            drifted += 1
            for line in lines:
                self.stdout.write(f"{user.email} {line}")
            if fix:
                permissions.sync_space_permissions(user=user, org=org)
        if not drifted:
            self.stdout.write(f"In sync: {len(pairs)} user/org pairs checked.")
        elif fix:
            self.stdout.write(f"Fixed {drifted} of {len(pairs)} user/org pairs.")
        else:
            raise CommandError(f"{drifted} of {len(pairs)} user/org pairs drifted; run with --fix to rewrite them.")
