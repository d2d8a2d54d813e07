"""The `ngc` console script run as a subprocess against the live HTTPS server."""
import os
import subprocess
import sys
from pathlib import Path

NGC = Path(sys.executable).with_name("ngc")


class NgcRunner:
    def __init__(self, server, home: Path):
        self.server = server
        self.home = home

    def env(self, key: str | None, org: str | None = "acme", **extra) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NGC_")}
        env.update(NGC_CLI_API_URL=self.server.url, NGC_CLI_HOME=str(self.home),
                   REQUESTS_CA_BUNDLE=self.server.ca_bundle)
        if key:
            env["NGC_CLI_API_KEY"] = key
        if org:
            env["NGC_CLI_ORG"] = org
        env.update(extra)
        return env

    def __call__(self, *args, key=None, org="acme", stdin=None, env_extra=None, **kw):
        command = [str(NGC)] if NGC.exists() else [sys.executable, "-m", "ngc_cli"]
        return subprocess.run(
            [*command, *args], capture_output=True, text=True, input=stdin, timeout=120,
            env=self.env(key, org, **(env_extra or {})), **kw,
        )
