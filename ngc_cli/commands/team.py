"""`ngc team ...`: team members and their roles (guide 2.5.2.3). The team is --team or the configured one."""
from argparse import Namespace

from ngc_cli.cli import Context, Subparsers, add_command, add_group
from ngc_cli.client import q
from ngc_cli.commands import _people

HELP = "Team commands: members and their roles (the team is --team or the configured team)."


def register(subparsers: Subparsers) -> None:
    sub = add_group(subparsers, "team", HELP)
    add_command(sub, "list", "List the teams of the org you can see.", _people.list_teams)
    add_command(sub, "info", "Show the team.", _info)
    cmd = add_command(sub, "add-user", "Add a user to the team with --role: an org member gets the role, "
                      "anyone else is invited.", _add_user)
    cmd.add_argument("email", metavar="<email>")
    cmd.add_argument("name", metavar="<name>", nargs="?", default="")
    _people.add_role_args(cmd, required=True)
    _people.add_member_commands(sub, "team", update_user=_update_user, remove_user=_remove_user, list_users=_list_users)


def _info(args: Namespace, ctx: Context) -> None:
    org, team = ctx.org_required(), ctx.team_required()
    data = ctx.api.get(f"/v2/org/{q(org)}/teams/{q(team)}", org=org, team=team,
                       what=f"Team '{team}' in org '{org}'").get("team") or {}
    ctx.out.info("Team Information", [("Id", data.get("id")), ("Name", data.get("name")),
                                      ("Description", data.get("description")), ("Deleted", data.get("isDeleted", False))],
                 {"team": data})


def _add_user(args: Namespace, ctx: Context) -> None:
    org, team = ctx.org_required(), ctx.team_required()
    if _people.find_member(ctx, org, None, args.email):
        _people.change_roles(ctx, org, team, args.email, args.role, [])
    else:
        _people.invite(ctx, org, team, args.email, args.name, args.role)


def _update_user(args: Namespace, ctx: Context) -> None:
    _people.change_roles(ctx, ctx.org_required(), ctx.team_required(), args.email, args.role or [], args.remove_role or [])


def _remove_user(args: Namespace, ctx: Context) -> int:
    return _people.remove_user(ctx, ctx.org_required(), ctx.team_required(), args.email)


def _list_users(args: Namespace, ctx: Context) -> None:
    org, team = ctx.org_required(), ctx.team_required()
    users = ctx.api.paged(_people.users_path(org, team), "users", org=org, team=team)
    ctx.out.table(_people.USER_COLUMNS, _people.user_rows(users, org, team), {"users": users})
