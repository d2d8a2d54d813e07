"""Shared helpers of `ngc org|team|user`: user tables, lookups, invitations, role changes."""
import json
from argparse import ArgumentParser, Namespace

from ngc_cli.cli import Context, Handler, Subparsers, add_command, add_yes
from ngc_cli.client import q
from ngc_cli.errors import NgcError

ROLE_HELP = ("Role name: ORG_OWNER, REGISTRY_ADMIN, REGISTRY_USER, REGISTRY_READ, USER_ADMIN, USER_READ "
             "(NVIDIA's legacy names such as REGISTRY_WRITE_ADMIN_ROLE are accepted too).")
USER_COLUMNS = ["Id", "Name", "Email", "Roles", "Created Date"]
TEAM_COLUMNS = ["Id", "Name", "Description"]


def users_path(org: str, team: str | None = None) -> str:
    return f"/v2/org/{q(org)}" + (f"/team/{q(team)}" if team else "") + "/users"


def v3_path(org: str, team: str | None = None) -> str:
    return f"/v3/orgs/{q(org)}" + (f"/teams/{q(team)}" if team else "")


def roles_in(user: dict, org: str, team: str | None = None) -> list[str]:
    roles = []
    for entry in user.get("roles") or []:
        if (entry.get("org") or {}).get("name") != org:
            continue
        entry_team = (entry.get("team") or {}).get("name")
        if team is None and entry_team is None:
            roles += entry.get("orgRoles") or []
        elif team is not None and entry_team == team:
            roles += entry.get("teamRoles") or []
    return sorted(set(roles))


def user_rows(users: list[dict], org: str, team: str | None = None) -> list[list]:
    return [[u.get("id"), u.get("name"), u.get("email"), roles_in(u, org, team), u.get("createdDate")] for u in users]


def find_member(ctx: Context, org: str, team: str | None, email: str) -> dict | None:
    """The member with that e-mail in org (or team), or None."""
    filt = json.dumps({"filters": [{"field": "email", "value": email}]})
    users = ctx.api.get(users_path(org, team), params={"page-size": 100, "page-number": 0, "q": filt}, org=org,
                        team=team or "").get("users") or []
    return users[0] if users else None


def invite(ctx: Context, org: str, team: str | None, email: str, name: str, roles: list[str]) -> None:
    body = {
        "email": email,
        "name": name,
        "message": "",
        "roles": [{"name": role, "resourceGroups": [team] if team else []} for role in roles],
    }
    invitation = ctx.api.post(f"/v3/orgs/{q(org)}/invitations", json=body, org=org, team=team or "").get("invitation") or {}
    pairs = [
        ("Email", invitation.get("userEmail", email)),
        ("Name", invitation.get("userName", name)),
        ("Org", invitation.get("orgName", org)),
    ]
    if team:
        pairs.append(("Team", invitation.get("teamName", team)))
    pairs += [("Roles", invitation.get("userRoles", roles)), ("Expires", invitation.get("expirationDate"))]
    ctx.out.info("Invitation Information", pairs, {"invitation": invitation}, header=f"Invitation sent to {email}.")


def change_roles(ctx: Context, org: str, team: str | None, email: str, add: list[str], remove: list[str]) -> None:
    if not add and not remove:
        raise NgcError("Name a role to add (--role) or to remove (--remove-role)")
    base = f"{v3_path(org, team)}/users/{q(email)}"
    what = f"User '{email}' in " + (f"team '{team}' of org '{org}'" if team else f"org '{org}'")
    if add:
        ctx.api.patch(f"{base}/add-role", params=[("roles", r) for r in add], org=org, team=team or "", what=what)
    if remove:
        ctx.api.delete(f"{base}/remove-role", params=[("roles", r) for r in remove], org=org, team=team or "", what=what)
    member = find_member(ctx, org, team, email)
    roles = roles_in(member, org, team) if member else []
    where = f"team '{team}'" if team else f"org '{org}'"
    ctx.out.message(f"User '{email}' roles in {where}: {', '.join(roles) or 'none'}.",
                    {"email": email, "org": org, "team": team, "roles": roles})


def remove_user(ctx: Context, org: str, team: str | None, email: str) -> int:
    where = f"team '{team}'" if team else f"org '{org}'"
    if not ctx.confirm(f"Are you sure you would like to remove {email} from {where}?"):
        ctx.out.message("Removal cancelled.", {"removed": False})
        return 1
    what = f"User '{email}' in {where}"
    ctx.api.delete(f"{v3_path(org, team)}/users/{q(email)}", org=org, team=team or "", what=what)
    ctx.out.message(f"User '{email}' removed from {where}.", {"removed": True, "email": email, "org": org, "team": team})
    return 0


def add_role_args(parser: ArgumentParser, required: bool = False) -> None:
    parser.add_argument("--role", action="append", metavar="<role>", required=required,
                        help=ROLE_HELP + " Repeatable.")


def add_member_commands(sub: Subparsers, scope: str, *, update_user: Handler, remove_user: Handler,
                        list_users: Handler) -> None:
    """`update-user`, `remove-user` and `list-users` of `ngc org` and `ngc team` (`scope`: "org" or "team")."""
    cmd = add_command(sub, "update-user", f"Add (--role) or remove (--remove-role) {scope} roles of a user.", update_user)
    cmd.add_argument("email", metavar="<email>")
    add_role_args(cmd)
    cmd.add_argument("--remove-role", action="append", metavar="<role>", help="Role to take away. Repeatable.")
    cmd = add_command(sub, "remove-user", f"Remove a user from the {scope} (all their {scope} roles).", remove_user)
    cmd.add_argument("email", metavar="<email>")
    add_yes(cmd)
    add_command(sub, "list-users", f"List the members of the {scope} with their {scope} roles.", list_users)


def list_teams(args: Namespace, ctx: Context) -> None:
    """`ngc org list-teams` and `ngc team list`: the org's teams."""
    org = ctx.org_required()
    teams = ctx.api.paged(f"/v2/org/{q(org)}/teams", "teams", page_size=500, org=org, team="")
    ctx.out.table(TEAM_COLUMNS, [[t.get("id"), t.get("name"), t.get("description")] for t in teams], {"teams": teams})
