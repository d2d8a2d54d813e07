"""`ngc config set|current`."""
import sys
from argparse import Namespace

from ngc_cli import config as config_mod
from ngc_cli.cli import Context, Subparsers, add_command, add_group
from ngc_cli.errors import NgcError

HELP = "Configure the client: API URL, API key, org, team and output format."


def register(subparsers: Subparsers) -> None:
    sub = add_group(subparsers, "config", HELP)
    cmd = add_command(
        sub, "set", "Set the configuration (prompts for each value unless given as flags).", _set,
        description="Set the configuration, stored in $NGC_CLI_HOME/.ngc/config (mode 0600).\n"
        "Without flags it prompts for the API key, format type, org, team and API URL (Enter keeps\n"
        "the current value). With any of --api-key/--url/--org/--team/--format_type it does not prompt.",
    )
    cmd.add_argument("--api-key", "--apikey", dest="api_key", metavar="<key>", help="API key ('no-apikey' to clear).")
    cmd.add_argument("--url", metavar="<url>", help="Base URL of the registry API, e.g. https://registry.example.com.")
    add_command(sub, "current", "Show the configuration in effect and where each value comes from.", _current)


def _mask(key: str | None) -> str:
    if not key:
        return ""
    return "*" * 8 + key[-4:] if len(key) > 8 else "*" * len(key)


def _ask(label: str, current: str | None, choices: str) -> str | None:
    shown = current or ""
    sys.stdout.write(f"Enter {label} [{shown}]. Choices: {choices}: ")
    sys.stdout.flush()
    line = sys.stdin.readline()
    if not line:  # EOF: keep the rest
        return current
    line = line.strip()
    return line or current


def _set(args: Namespace, ctx: Context) -> int:
    stored = config_mod.read_file()
    flags = {
        "api_key": args.api_key,
        "url": args.url,
        "org": getattr(args, "org", None),
        "team": getattr(args, "team", None),
        "format_type": getattr(args, "format_type", None),
    }
    values = dict(stored)
    if any(v is not None for v in flags.values()):
        values.update({k: v for k, v in flags.items() if v is not None})
    else:
        key = _ask("API key", _mask(stored.get("api_key")) or None, "[<VALID_APIKEY>, 'no-apikey']")
        if key and key != _mask(stored.get("api_key")):
            values["api_key"] = key
        values["format_type"] = _ask("CLI output format type", stored.get("format_type") or "ascii", "[ascii, csv, json]")
        values["org"] = _ask("org", stored.get("org"), "[<org name>, 'no-org']")
        values["team"] = _ask("team", stored.get("team"), "[<team name>, 'no-team']")
        values["url"] = _ask("API URL", stored.get("url") or config_mod.DEFAULT_URL, "[<https URL>]")
    if values.get("api_key") == "no-apikey":
        values.pop("api_key")
    if values.get("format_type") and values["format_type"] not in config_mod.FORMATS:
        raise NgcError(f"Invalid format type '{values['format_type']}': choose ascii, csv or json")
    _validate(values)
    path = config_mod.write_file(values)
    print(f"Successfully saved NGC configuration to {path}")
    return 0


def _validate(values: dict) -> None:
    """With a key: the key must work, and the org (if any) must be one of the key owner's orgs."""
    if not values.get("api_key"):
        return
    from ngc_cli.client import ApiClient

    candidate = config_mod.Config(**{k: values.get(k) for k in config_mod.KEYS})
    api = ApiClient(candidate)
    api.token()
    org = candidate.org_name
    if org:
        orgs = [o.get("name") for o in api.get("/v2/orgs", params={"page-size": 500}, org="", team="").get("organizations", [])]
        if org not in orgs:
            raise NgcError(f"Org '{org}' is not one of your orgs: {', '.join(orgs) or 'none'}")
        team = candidate.team_name
        if team:
            teams = [t.get("name") for t in api.paged(f"/v2/org/{org}/teams", "teams", page_size=500, org=org, team="")]
            if team not in teams:
                raise NgcError(f"Team '{team}' is not a team of org '{org}' you can see: {', '.join(teams) or 'none'}")


def _current(args: Namespace, ctx: Context) -> int:
    cfg = config_mod.load()  # without this command's flags: what is configured
    sources = cfg.sources or {}
    rows = []
    labels = {"url": "base_url", "api_key": "apikey", "org": "org", "team": "team", "format_type": "format_type"}
    for attr, label in labels.items():
        value = getattr(cfg, attr)
        if value is None and attr != "url":
            continue
        source = sources.get(attr, "default")
        if source == "env":
            source = config_mod.KEYS[attr][1]
        elif source == "file":
            source = str(config_mod.config_path())
        shown = _mask(value) if attr == "api_key" else (value if value is not None else config_mod.DEFAULT_URL)
        rows.append([label, shown, source])
    ctx.out.table(["key", "value", "source"], rows, [{"key": r[0], "value": r[1], "source": r[2]} for r in rows])
    return 0
