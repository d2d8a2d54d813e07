"""`ngc org ...`: orgs, org members, invitations and teams (guide 2.5.2)."""
from ngc_cli.cli import add_command, add_group, add_yes
from ngc_cli.client import q
from ngc_cli.commands import _people
from ngc_cli.errors import NgcError

HELP = "Org commands: members, invitations and teams."


def register(subparsers):
    sub = add_group(subparsers, "org", HELP)
    add_command(sub, "list", "List the orgs you belong to.", _list)
    add_command(sub, "info", "Show the current org.", _info)
    cmd = add_command(sub, "add-user", "Invite a user to the org (optionally into --team with --role).", _add_user)
    cmd.add_argument("email", metavar="<email>")
    cmd.add_argument("name", metavar="<name>")
    _people.add_role_args(cmd)
    cmd = add_command(sub, "update-user", "Add (--role) or remove (--remove-role) org roles of a member.", _update_user)
    cmd.add_argument("email", metavar="<email>")
    _people.add_role_args(cmd)
    cmd.add_argument("--remove-role", action="append", metavar="<role>", help="Role to take away. Repeatable.")
    cmd = add_command(sub, "remove-user", "Remove a user from the org (all their roles there).", _remove_user)
    cmd.add_argument("email", metavar="<email>")
    add_yes(cmd)
    add_command(sub, "list-users", "List the members of the org with their org roles.", _list_users)
    cmd = add_command(sub, "add-team", "Create a team in the org.", _add_team)
    cmd.add_argument("name", metavar="<name>")
    cmd.add_argument("description", metavar="<description>")
    add_command(sub, "list-teams", "List the teams of the org.", _list_teams)


def _list(args, ctx):
    orgs = ctx.api.paged("/v2/orgs", "organizations", page_size=500, org="", team="")
    ctx.out.table(["Name", "Display Name", "Description", "Type"],
                  [[o.get("name"), o.get("displayName"), o.get("description"), o.get("type")] for o in orgs],
                  {"organizations": orgs})


def _info(args, ctx):
    org = ctx.org_required()
    data = ctx.api.get(f"/v2/orgs/{q(org)}", org=org, team="", what=f"Org '{org}'").get("organizations") or {}
    ctx.out.info("Org Information", [("Id", data.get("id")), ("Name", data.get("name")),
                                     ("Display Name", data.get("displayName")), ("Description", data.get("description")),
                                     ("Type", data.get("type"))], {"organizations": data})


def _add_user(args, ctx):
    org = ctx.org_required()
    team = ctx.team
    if _people.find_member(ctx, org, None, args.email):
        raise NgcError(f"User '{args.email}' is already a member of org '{org}': use `ngc org update-user` "
                       f"or `ngc team add-user` to change their roles")
    _people.invite(ctx, org, team, args.email, args.name, args.role or ["REGISTRY_READ"])


def _update_user(args, ctx):
    _people.change_roles(ctx, ctx.org_required(), None, args.email, args.role or [], args.remove_role or [])


def _remove_user(args, ctx):
    return _people.remove_user(ctx, ctx.org_required(), None, args.email)


def _list_users(args, ctx):
    org = ctx.org_required()
    users = ctx.api.paged(_people.users_path(org), "users", org=org, team="")
    ctx.out.table(_people.USER_COLUMNS, _people.user_rows(users, org), {"users": users})


def _add_team(args, ctx):
    org = ctx.org_required()
    team = ctx.api.post(f"/v2/org/{q(org)}/teams", json={"name": args.name, "description": args.description},
                        org=org, team="").get("team") or {}
    ctx.out.info("Team Information", [("Id", team.get("id")), ("Name", team.get("name")),
                                      ("Description", team.get("description")), ("Deleted", team.get("isDeleted", False))],
                 {"team": team}, header="Team created.")


def _list_teams(args, ctx):
    org = ctx.org_required()
    teams = ctx.api.paged(f"/v2/org/{q(org)}/teams", "teams", page_size=500, org=org, team="")
    ctx.out.table(_people.TEAM_COLUMNS, [[t.get("id"), t.get("name"), t.get("description")] for t in teams],
                  {"teams": teams})
