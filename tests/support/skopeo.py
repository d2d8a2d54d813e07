"""skopeo (a real registry client) against a live HTTPS server, with the server's test CA and a
throwaway auth file, so the user's own registry logins are never touched."""
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from accounts import services as account_services

SKOPEO = shutil.which("skopeo")


def skopeo_runner(server, tmp_path: Path) -> Callable[..., subprocess.CompletedProcess]:
    """`run(user, "copy", SRC, DEST, ...)`: skopeo as `user` (a fresh API key), with REGISTRY in
    the arguments replaced by the server's host:port. Raises with skopeo's stderr on failure
    unless `check=False`."""
    if SKOPEO is None:
        raise AssertionError("skopeo is not installed (apt-get install skopeo; scripts/test does)")
    cert_dir = tmp_path / "certs"
    cert_dir.mkdir(exist_ok=True)
    shutil.copy(server.ca_bundle, cert_dir / "ca.crt")
    host = server.url.split("://", 1)[1]
    env = {**os.environ, "REGISTRY_AUTH_FILE": str(tmp_path / "auth.json"), "HOME": str(tmp_path)}

    def run(user, *args, check=True):
        key = account_services.api_key_generate(user=user)
        args = [a.replace("REGISTRY", host) for a in args]
        command = [SKOPEO, "--insecure-policy", *args]
        cert_flags = {
            "copy": ["--src-cert-dir", str(cert_dir), "--dest-cert-dir", str(cert_dir)],
        }.get(args[0], ["--cert-dir", str(cert_dir)])
        cred_flags = {"copy": ["--src-creds", f"$oauthtoken:{key}", "--dest-creds", f"$oauthtoken:{key}"]}.get(
            args[0], ["--creds", f"$oauthtoken:{key}"]
        )
        command[3:3] = cert_flags + cred_flags
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed:\n{result.stderr}")
        return result

    return run
