"""Running NVIDIA's ngcsdk against the live server, one subprocess per scenario.

The SDK reads its environment once at import, so every scenario gets a fresh interpreter with
the server's URLs, the test CA and a home of its own; none of the test run's NGC_/DJANGO_/DATABASE
variables leak in. A scenario script prints its result as JSON on its last line.
`upload_then_read_model` is the deployed tests' round trip (tests/deployed: one server, two nodes).
"""
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from accounts import services as account_services

DEPLOYED_SCRIPT = Path(__file__).resolve().parents[1] / "deployed" / "ngcsdk_smoke.py"


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


def upload_then_read_model(
    *, server, user, target: str, files: dict[str, bytes], workdir: Path, logs: Callable[[], str] = lambda: "",
) -> dict:
    """As `user` (of team alpha), the SDK creates model `target`, uploads `files` as its version 1
    and at once reads it back (info, download) from `server`; the steps' results, once checked:
    the upload completed, the version is UPLOAD_COMPLETE and the download holds exactly `files`.
    `logs` adds the servers' logs to a failure."""
    source, dest = workdir / "source", workdir / "download"
    for relative, content in files.items():
        (source / relative).parent.mkdir(parents=True, exist_ok=True)
        (source / relative).write_bytes(content)
    dest.mkdir()
    key = account_services.api_key_generate(user=user)

    output = run_scenario(
        DEPLOYED_SCRIPT, "upload_then_read",
        {"key": key, "team": "alpha", "target": target, "source": str(source), "dest": str(dest)},
        server=server, workdir=workdir, timeout=240,
    )

    assert output["ok"], f"{output.get('traceback') or output}{logs()}"
    result = output["result"]
    assert result["uploaded"]["status"] == "Completed"
    assert result["version_info"]["modelVersion"]["status"] == "UPLOAD_COMPLETE"
    downloaded = Path(result["downloaded"]["path"])
    assert {str(p.relative_to(downloaded)): p.read_bytes() for p in downloaded.rglob("*") if p.is_file()} == files
    return result
