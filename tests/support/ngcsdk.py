"""Running NVIDIA's ngcsdk against the live server, one subprocess per scenario.

The SDK reads its environment once at import, so every scenario gets a fresh interpreter with
the server's URLs, the test CA and a home of its own; none of the test run's NGC_/DJANGO_/DATABASE
variables leak in. A scenario script prints its result as JSON on its last line.
"""
import json
import os
import subprocess
import sys
from pathlib import Path


def run_scenario(script: Path, scenario: str, args: dict, *, server, workdir: Path, timeout: int) -> dict:
    home = workdir / f"ngc-home-{scenario}"
    home.mkdir(exist_ok=True)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("NGC_", "DJANGO_", "DATABASE_URL"))}
    env.update(
        NGC_CLI_API_URL=server.url,
        NGC_CLI_AUTH_URL=server.url,
        REQUESTS_CA_BUNDLE=server.ca_bundle,
        NGC_CLI_HOME=str(home),
    )
    completed = subprocess.run(
        [sys.executable, str(script), scenario, json.dumps(args)],
        env=env, capture_output=True, text=True, timeout=timeout, cwd=workdir,
    )
    lines = completed.stdout.strip().splitlines()
    assert lines, f"no output from the SDK scenario:\n{completed.stderr[-4000:]}"
    return json.loads(lines[-1])
