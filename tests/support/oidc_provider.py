"""A real OpenID Connect provider for the SSO tests: npm's oidc-provider (tests/support/oidc/)
run with the machine's Node, plus a requests-driven "person" for its login page.

scripts/test installs the npm package (`npm ci` in tests/support/oidc/); run alone, the fixture
installs it the same way the first time.
"""
import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import requests
from joserfc.jwk import KeySet, RSAKey

from tests.support.servers import _wait_until, free_port

HERE = Path(__file__).resolve().parent / "oidc"
CLIENT_ID = "registry-portal"
OTHER_CLIENT_ID = "other-client"
CLIENT_SECRET = "portal-test-secret-0f3a9c"


@dataclass
class OidcProvider:
    issuer: str
    process: subprocess.Popen
    keys: KeySet  # the provider's private signing keys: tests mint tokens "signed by the provider"
    log_path: Path


def ensure_installed() -> None:
    if (HERE / "node_modules" / "oidc-provider" / "package.json").exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("The SSO tests need Node and npm (Debian: apt-get install nodejs npm; scripts/test does).")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True)


def start(tmp_dir: Path) -> OidcProvider:
    ensure_installed()
    key = RSAKey.generate_key(2048, parameters={"kid": "test-signing-key", "use": "sig", "alg": "RS256"}, private=True)
    keys = KeySet([key])
    jwks_file = tmp_dir / "jwks.json"
    jwks_file.write_text(json.dumps(keys.as_dict(private=True)))
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    log_path = tmp_dir / "oidc-provider.log"
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "PORT": str(port), "JWKS_FILE": str(jwks_file),
           "CLIENT_SECRET": CLIENT_SECRET, "NODE_ENV": "development"}
    process = subprocess.Popen(
        [shutil.which("node") or "node", "provider.mjs"], cwd=HERE, env=env,
        stdout=log_path.open("w"), stderr=subprocess.STDOUT,
    )

    def ready() -> bool:
        try:
            return requests.get(f"{issuer}/.well-known/openid-configuration", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    _wait_until(ready, timeout=30, what="oidc-provider", log_path=log_path, process=process)
    return OidcProvider(issuer=issuer, process=process, keys=keys, log_path=log_path)


def log_in(authorize_url: str, login: str, *, http: requests.Session | None = None) -> str:
    """Follow the provider's pages as a person would: open the authorization URL, submit the
    devInteractions login form, and return the URL the provider sends the browser back to
    (the portal's callback with ?code&state). No portal request is made."""
    http = http or requests.Session()
    http.trust_env = False
    url = authorize_url
    for _ in range(10):
        response = http.get(url, allow_redirects=False, timeout=10)
        if response.status_code in (302, 303):
            url = urljoin(url, response.headers["Location"])
            if "/accounts/sso/callback" in url:
                return url
            continue
        form = re.search(r'<form[^>]*action="([^"]+)"', response.text)
        assert response.status_code == 200 and form, (response.status_code, response.text[:2000])
        response = http.post(
            urljoin(url, form.group(1)),
            data={"prompt": "login", "login": login, "password": "any-password"},
            allow_redirects=False, timeout=10,
        )
        assert response.status_code in (302, 303), (response.status_code, response.text[:2000])
        url = urljoin(url, response.headers["Location"])
        if "/accounts/sso/callback" in url:
            return url
    raise AssertionError(f"the provider never sent the browser back to the portal (last URL {url})")
