"""Parser helpers shared by every command module, and the Context handed to handlers.

Global options (`--org`, `--team`, `--ace`, `--format_type`, `--debug`) are accepted by every
parser, before or after the command words; `-h` works everywhere.
"""
import argparse
import importlib
import pkgutil
import sys
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeAlias

from ngc_cli import config as config_mod
from ngc_cli.errors import NgcError
from ngc_cli.output import Printer

if TYPE_CHECKING:
    from ngc_cli.client import ApiClient


def _global_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    opts = parent.add_argument_group("global options")
    opts.add_argument("--org", default=argparse.SUPPRESS, metavar="<name>",
                      help="Org to use for this command ('no-org' for none); overrides the configuration.")
    opts.add_argument("--team", default=argparse.SUPPRESS, metavar="<name>",
                      help="Team to use for this command ('no-team' for none); overrides the configuration.")
    opts.add_argument("--ace", default=argparse.SUPPRESS, metavar="<name>", help="ACE name (accepted and ignored).")
    opts.add_argument("--format_type", "--format-type", dest="format_type", default=argparse.SUPPRESS,
                      choices=config_mod.FORMATS, metavar="<fmt>",
                      help="Output format: ascii (default), csv or json.")
    opts.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                      help="Log HTTP requests and show tracebacks on errors.")
    return parent


GLOBAL = _global_options()
# The sub-parsers action a command module registers its group or commands on.
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
# A command's handler: `func(args, ctx)`, returning the exit code (None: 0).
Handler: TypeAlias = Callable[[argparse.Namespace, "Context"], int | None]


class Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str):
        super().__init__(prog, max_help_position=32, width=100)


def add_group(subparsers: Subparsers, name: str, help_text: str, description: str | None = None) -> Subparsers:
    """Add a command group (`ngc <name> <command>`); returns its sub-parsers action."""
    # allow_abbrev=False (added by the transfers helper): `--format` of `model create` must not be
    # taken as an abbreviation of the global `--format_type` by an enclosing parser.
    parser = subparsers.add_parser(name, help=help_text, description=description or help_text,
                                   parents=[GLOBAL], formatter_class=Formatter, allow_abbrev=False)
    sub = parser.add_subparsers(title="commands", metavar="<command>")
    parser.set_defaults(func=lambda args, ctx: _usage(parser))
    return sub


def add_command(subparsers: Subparsers, name: str, help_text: str, func: Handler, description: str | None = None,
                **kwargs: Any) -> argparse.ArgumentParser:
    """Add a command; `func(args, ctx)` runs it. Returns the parser for its own arguments."""
    parser = subparsers.add_parser(name, help=help_text, description=description or help_text,
                                   parents=[GLOBAL], formatter_class=Formatter, allow_abbrev=False, **kwargs)
    parser.set_defaults(func=func)
    return parser


def discover(package: ModuleType, subparsers: Subparsers) -> None:
    """Import every module of `package` that has `register(subparsers)` and call it, sorted by name."""
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register:
            register(subparsers)


def add_yes(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-y", "--yes", action="store_true", help="Do not ask for confirmation.")


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


class Context:
    """What a handler needs: the merged configuration, an API client and a printer."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        flags = {name: getattr(args, name, None) for name in ("org", "team", "format_type")}
        self.config = config_mod.load(flags)
        self.out = Printer(self.config.format)
        self._api: "ApiClient | None" = None

    @property
    def api(self) -> "ApiClient":
        if self._api is None:
            from ngc_cli.client import ApiClient

            self._api = ApiClient(self.config)
        return self._api

    @property
    def org(self) -> str | None:
        return self.config.org_name

    @property
    def team(self) -> str | None:
        return self.config.team_name

    def org_required(self) -> str:
        if not self.org:
            raise NgcError("No org given: use --org <org>, NGC_CLI_ORG or `ngc config set`")
        return self.org

    def team_required(self) -> str:
        if not self.team:
            raise NgcError("No team given: use --team <team>, NGC_CLI_TEAM or `ngc config set`")
        return self.team

    def confirm(self, prompt: str) -> bool:
        """`<prompt> [y/n]` unless -y; False on anything but y/yes."""
        if getattr(self.args, "yes", False):
            return True
        try:
            answer = input(f"{prompt} [y/n] ")
        except EOFError:
            answer = ""
        return answer.strip().lower() in ("y", "yes")
