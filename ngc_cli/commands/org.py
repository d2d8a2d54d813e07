"""`ngc org ...`: orgs, org members, invitations and teams (guide 2.5.2)."""
from argparse import Namespace

from ngc_cli.cli import Context, Subparsers, add_command, add_group
from ngc_cli.client import q
from ngc_cli.commands import _people
from ngc_cli.errors import NgcError

HELP = "Org commands: members, invitations and teams."


def register(subparsers: Subparsers) -> None:
    sub = add_group(subparsers, "org", HELP)
    add_command(sub, "list", "List the orgs you belong to.", _list)
    add_command(sub, "info", "Show the current org.", _info)
    cmd = add_command(sub, "add-user", "Invite a user to the org (optionally into --team with --role).", _add_user)
    cmd.add_argument("email", metavar="<email>")
    cmd.add_argument("name", metavar="<name>")
    _people.add_role_args(cmd)
    _people.add_member_commands(sub, "org", update_user=_update_user, remove_user=_remove_user, list_users=_list_users)
    cmd = add_command(sub, "add-team", "Create a team in the org.", _add_team)
    cmd.add_argument("name", metavar="<name>")
    cmd.add_argument("description", metavar="<description>")
    add_command(sub, "list-teams", "List the teams of the org.", _people.list_teams)


def _list(args: Namespace, ctx: Context) -> None:
    orgs = ctx.api.paged("/v2/orgs", "organizations", page_size=500, org="", team="")
    ctx.out.table(["Name", "Display Name", "Description", "Type"],
                  [[o.get("name"), o.get("displayName"), o.get("description"), o.get("type")] for o in orgs],
                  {"organizations": orgs})


def _info(args: Namespace, ctx: Context) -> None:
    org = ctx.org_required()
    data = ctx.api.get(f"/v2/orgs/{q(org)}", org=org, team="", what=f"Org '{org}'").get("organizations") or {}
    ctx.out.info("Org Information", [("Id", data.get("id")), ("Name", data.get("name")),
                                     ("Display Name", data.get("displayName")), ("Description", data.get("description")),
                                     ("Type", data.get("type"))], {"organizations": data})


def _add_user(args: Namespace, ctx: Context) -> None:
    org = ctx.org_required()
    team = ctx.team
    if _people.find_member(ctx, org, None, args.email):
        raise NgcError(f"User '{args.email}' is already a member of org '{org}': use `ngc org update-user` "
                       f"or `ngc team add-user` to change their roles")
    _people.invite(ctx, org, team, args.email, args.name, args.role or ["REGISTRY_READ"])


def _update_user(args: Namespace, ctx: Context) -> None:
    _people.change_roles(ctx, ctx.org_required(), None, args.email, args.role or [], args.remove_role or [])


def _remove_user(args: Namespace, ctx: Context) -> int:
    return _people.remove_user(ctx, ctx.org_required(), None, args.email)


def _list_users(args: Namespace, ctx: Context) -> None:
    org = ctx.org_required()
    users = ctx.api.paged(_people.users_path(org), "users", org=org, team="")
    ctx.out.table(_people.USER_COLUMNS, _people.user_rows(users, org), {"users": users})


def _add_team(args: Namespace, ctx: Context) -> None:
    org = ctx.org_required()
    team = ctx.api.post(f"/v2/org/{q(org)}/teams", json={"name": args.name, "description": args.description},
                        org=org, team="").get("team") or {}
    ctx.out.info("Team Information", [("Id", team.get("id")), ("Name", team.get("name")),
                                      ("Description", team.get("description")), ("Deleted", team.get("isDeleted", False))],
                 {"team": team}, header="Team created.")
