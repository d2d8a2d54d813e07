"""Command groups of `ngc`: every module here with `register(subparsers)` is added automatically
(see ngc_cli/__init__.py)."""
