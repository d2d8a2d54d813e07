"""`ngc registry model create|update|info|list|upload-version|download-version|remove` (guide chapter 4)."""
from ngc_cli.cli import Subparsers
from ngc_cli.commands.registry._versioned import MODEL, build

HELP = "Model commands."


def register(subparsers: Subparsers) -> None:
    build(subparsers, MODEL)
