"""Type hints on function arguments, per top-level package: hinted arguments, and functions whose
arguments are all hinted.

    python scripts/hint_coverage.py [PACKAGE ...]

self/cls are not counted, *args and **kwargs are; functions without other arguments are left out.
Migrations are not counted.
"""

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["accounts", "artifacts", "helmrepo", "registry_portal", "ngc_cli", "bench"]


def _arguments(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.arg]:
    a = fn.args
    named = a.posonlyargs + a.args + a.kwonlyargs
    if named and named[0].arg in ("self", "cls"):
        named = named[1:]
    return named + [x for x in (a.vararg, a.kwarg) if x is not None]


def coverage(package: str) -> tuple[int, int, int, int]:
    """(hinted, counted) arguments and (hinted, counted) functions of one package."""
    hinted_args = args_counted = hinted = counted = 0
    for path in sorted((ROOT / package).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                args = _arguments(node)
                if args:
                    counted += 1
                    hinted += all(arg.annotation is not None for arg in args)
                    args_counted += len(args)
                    hinted_args += sum(arg.annotation is not None for arg in args)
    return hinted_args, args_counted, hinted, counted


def _share(part: int, whole: int) -> str:
    return f"{part:4}/{whole:<4} {100 * part / max(whole, 1):5.1f} %"


def main(packages: list[str]) -> None:
    print(f"{'':16} {'arguments hinted':>18}   {'functions fully hinted':>20}")
    totals = [0, 0, 0, 0]
    for package in packages:
        counts = coverage(package)
        totals = [t + c for t, c in zip(totals, counts)]
        print(f"{package:16} {_share(*counts[:2])}   {_share(*counts[2:])}")
    print(f"{'all':16} {_share(*totals[:2])}   {_share(*totals[2:])}")


if __name__ == "__main__":
    main(sys.argv[1:] or PACKAGES)
