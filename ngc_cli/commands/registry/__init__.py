"""`ngc registry <group>`: every module in this package with `register(subparsers)` is added
automatically as a registry sub-group (image, model, resource, chart, ...)."""
import sys

from ngc_cli.cli import Subparsers, add_group, discover

HELP = "Registry commands: images, models, resources, charts."


def register(subparsers: Subparsers) -> None:
    sub = add_group(subparsers, "registry", HELP)
    discover(sys.modules[__name__], sub)
