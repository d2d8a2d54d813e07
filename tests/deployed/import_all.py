"""Import every module of the server (and the `ngc` client) under Django's setup.

Run by the runtime-only venv (`.venv-runtime`, built from requirements.txt alone), so an import
that requirements.txt does not cover fails here rather than in production. It prints one JSON
line: the modules imported and the failures (module -> error), and exits 1 on any failure.
"""
import importlib
import json
import os
import pkgutil
import sys
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The server's packages and the client's; tests/ and bench/ are not part of the runtime.
PACKAGES = ("registry_portal", "accounts", "artifacts", "helmrepo", "ngc_cli")


def main() -> int:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry_portal.settings")
    import django

    django.setup()
    imported: list[str] = []
    failed: dict[str, str] = {}
    for package in PACKAGES:
        names = [package] + [
            info.name for info in pkgutil.walk_packages([str(ROOT / package)], prefix=f"{package}.")
        ]
        for name in names:
            try:
                importlib.import_module(name)
            except BaseException:  # SystemExit from a CLI module counts as a failure too
                failed[name] = traceback.format_exc(limit=3)
            else:
                imported.append(name)
    print(json.dumps({"imported": imported, "failed": failed}))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
