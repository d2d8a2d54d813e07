"""Entry point of the `ngc` console script."""
import argparse
import logging
import sys
from typing import NoReturn

from ngc_cli import __version__
from ngc_cli.cli import GLOBAL, Context, Formatter, discover
from ngc_cli.errors import NgcError

DESCRIPTION = """\
NGC command-line client for this private registry (shaped like NVIDIA's NGC CLI).

Configure once with `ngc config set` (or the NGC_CLI_API_URL, NGC_CLI_API_KEY, NGC_CLI_ORG,
NGC_CLI_TEAM, NGC_CLI_FORMAT_TYPE and NGC_CLI_HOME environment variables), then e.g.
  ngc org list-teams
  ngc registry image list "acme/*"
Use `ngc <group> -h` for a group's commands."""


def build_parser() -> argparse.ArgumentParser:
    from ngc_cli import commands

    parser = argparse.ArgumentParser(prog="ngc", description=DESCRIPTION, parents=[GLOBAL], formatter_class=Formatter,
                                     allow_abbrev=False)  # see add_group: `--format` is a model option
    parser.add_argument("-v", "--version", action="version", version=f"NGC CLI {__version__}")
    sub = parser.add_subparsers(title="command groups", metavar="<group>")
    discover(commands, sub)
    parser.set_defaults(func=lambda args, ctx: (parser.print_help(sys.stderr), 2)[1])
    return parser


def main(argv: list[str] | None = None) -> NoReturn:
    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv
    if debug:
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, format="%(name)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        ctx = Context(args)
        code = args.func(args, ctx)
    except NgcError as exc:
        if debug:
            raise
        print(exc.message, file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as exc:  # noqa: BLE001 - one line unless --debug
        if debug:
            raise
        print(f"Unexpected error: {type(exc).__name__}: {' '.join(str(exc).split())} (rerun with --debug for details)",
              file=sys.stderr)
        sys.exit(1)
    sys.exit(code or 0)


if __name__ == "__main__":
    main()
