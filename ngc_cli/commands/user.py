"""`ngc user who`: the current user and their memberships."""
from argparse import Namespace

from ngc_cli.cli import Context, Subparsers, add_command, add_group

HELP = "User commands: who you are and your roles."


def register(subparsers: Subparsers) -> None:
    sub = add_group(subparsers, "user", HELP)
    add_command(sub, "who", "Show the current user (the API key's owner) and their org and team roles.", _who)


def _who(args: Namespace, ctx: Context) -> int:
    params = {"org-name": ctx.org} if ctx.org else None
    user = ctx.api.get("/v2/users/me", params=params, org=ctx.org or "", team="").get("user") or {}
    rows = []
    for entry in user.get("roles") or []:
        org = (entry.get("org") or {}).get("name")
        team = (entry.get("team") or {}).get("name", "")
        roles = entry.get("teamRoles") if team else entry.get("orgRoles")
        rows.append([org, team, sorted(roles or [])])
    if ctx.out.format == "json":
        ctx.out.json({"user": user})
        return 0
    if ctx.out.format == "csv":
        ctx.out.table(["Id", "Name", "Email", "Org", "Team", "Roles"],
                      [[user.get("id"), user.get("name"), user.get("email"), *row] for row in rows])
        return 0
    ctx.out.info("User Information", [("Id", user.get("id")), ("Name", user.get("name")), ("Email", user.get("email")),
                                      ("Created Date", user.get("createdDate"))])
    ctx.out.table(["Org", "Team", "Roles"], rows)
    return 0
