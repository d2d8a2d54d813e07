"""`ngc registry <group>`: every module in this package with `register(subparsers)` is added
automatically as a registry sub-group (image, model, resource, chart, ...)."""
from ngc_cli.cli import add_group

HELP = "Registry commands: images, models, resources, charts."


def register(subparsers):
    import sys

    from ngc_cli.main import discover

    sub = add_group(subparsers, "registry", HELP)
    discover(sys.modules[__name__], sub)
