"""Shared helpers of `ngc org|team|user`: user tables, lookups, invitations, role changes."""
import json

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


def user_rows(users, org, team=None):
    return [[u.get("id"), u.get("name"), u.get("email"), roles_in(u, org, team), u.get("createdDate")] for u in users]


def find_member(ctx, org: str, team: str | None, email: str) -> dict | None:
    """The member with that e-mail in org (or team), or None."""
    filt = json.dumps({"filters": [{"field": "email", "value": email}]})
    users = ctx.api.get(users_path(org, team), params={"page-size": 100, "page-number": 0, "q": filt}, org=org,
                        team=team or "").get("users") or []
    return users[0] if users else None


def invite(ctx, org: str, team: str | None, email: str, name: str, roles: list[str]):
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


def change_roles(ctx, org: str, team: str | None, email: str, add: list[str], remove: list[str]):
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


def remove_user(ctx, org: str, team: str | None, email: str):
    where = f"team '{team}'" if team else f"org '{org}'"
    if not ctx.confirm(f"Are you sure you would like to remove {email} from {where}?"):
        ctx.out.message("Removal cancelled.", {"removed": False})
        return 1
    what = f"User '{email}' in {where}"
    ctx.api.delete(f"{v3_path(org, team)}/users/{q(email)}", org=org, team=team or "", what=what)
    ctx.out.message(f"User '{email}' removed from {where}.", {"removed": True, "email": email, "org": org, "team": team})
    return 0


def add_role_args(parser, required=False):
    parser.add_argument("--role", action="append", metavar="<role>", required=required,
                        help=ROLE_HELP + " Repeatable.")
