"""`ngc`: a command-line client for this registry, shaped like NVIDIA's NGC CLI.

It talks only HTTP (requests) to the server's REST, Helm and registry APIs and never imports
server code. Layout:

    ngc_cli/main.py        entry point (`ngc` console script, `python -m ngc_cli`): parser, dispatch, errors
    ngc_cli/config.py      [CURRENT] in $NGC_CLI_HOME/.ngc/config; NGC_CLI_* environment overrides; flags
    ngc_cli/client.py      ApiClient: /token exchange (Basic $oauthtoken:<key>, scoped to org/team), JSON calls
    ngc_cli/errors.py      NgcError (one line on stderr, exit code) and the HTTP status mapping
    ngc_cli/output.py      Printer: ascii tables (+----+), csv, json; info blocks
    ngc_cli/cli.py         add_group()/add_command() helpers, discover(), the global options, Context
    ngc_cli/commands/      one module per top-level group (config, org, team, user, ...)
    ngc_cli/commands/registry/   one module per `ngc registry <group>` (image, ...)

Adding a command group
----------------------
Top-level group `ngc foo ...`: create `ngc_cli/commands/foo.py` with

    from ngc_cli.cli import add_command, add_group

    HELP = "Foo commands."          # one line, shown by `ngc --help`

    def register(subparsers):       # subparsers: the argparse sub-parsers action of `ngc`
        group = add_group(subparsers, "foo", HELP)
        cmd = add_command(group, "list", "List foos.", _list)
        cmd.add_argument("pattern", nargs="?")

    def _list(args, ctx):           # ctx: ngc_cli.cli.Context (ctx.config, ctx.api, ctx.out, ctx.confirm())
        data = ctx.api.get(f"/v2/org/{ctx.org_required()}/foos")
        ctx.out.table(["Name"], [[f["name"]] for f in data["foos"]], data)

Registry sub-group `ngc registry bar ...`: the same, in `ngc_cli/commands/registry/bar.py`
(its `register(subparsers)` receives the `registry` group's sub-parsers). Modules are found
automatically (pkgutil); nothing else needs editing. Raise `ngc_cli.errors.NgcError(message)` for
user errors; ApiClient already turns HTTP errors into NgcError (401 "Invalid API key", 403 the
server's message, 404 what was not found, connection errors name the URL tried).
"""

__version__ = "1.0.0"
