"""`ngc registry resource create|update|info|list|upload-version|download-version|remove` (guide
chapter 5; upload-version without a version takes the next one)."""
from ngc_cli.cli import Subparsers
from ngc_cli.commands.registry._versioned import RESOURCE, build

HELP = "Resource commands."


def register(subparsers: Subparsers) -> None:
    build(subparsers, RESOURCE)
