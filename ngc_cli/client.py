"""ApiClient: the REST API over requests, with the NGC token exchange.

`GET {base}/token?service=ngc&scope=group/ngc:<org>[&scope=group/ngc:<org>/<team>]` with
`Authorization: Basic base64("$oauthtoken:<API key>")` gives `{"token", "expires_in"}`; later calls
send `Authorization: Bearer <token>`. TLS verification follows requests (REQUESTS_CA_BUNDLE).
"""
import logging
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

import requests

from ngc_cli import __version__
from ngc_cli.config import Config
from ngc_cli.errors import AuthError, NgcError, from_response

log = logging.getLogger("ngc_cli")
USER_AGENT = f"ngc-cli/{__version__}"
TIMEOUT = (10, 300)


def q(segment: str) -> str:
    """Percent-quote one path segment (e-mails: bob@x → bob%40x)."""
    return quote(str(segment), safe="")


def space_path(org: str, team: str | None = None) -> str:
    """`org/<org>[/team/<team>]` (v2 style)."""
    return f"org/{q(org)}" + (f"/team/{q(team)}" if team else "")


class ApiClient:
    def __init__(self, config: Config):
        self.config = config
        self.base_url = config.base_url
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self._tokens: dict[tuple, tuple[str, float]] = {}

    # --- low level -------------------------------------------------------------------------
    def send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One HTTP request; network failures become NgcError naming the URL tried."""
        kwargs.setdefault("timeout", TIMEOUT)
        log.debug("%s %s", method, url)
        try:
            response = self.session.request(method, url, **kwargs)
        except requests.exceptions.SSLError as exc:
            raise NgcError(f"TLS error talking to {url}: {_short(exc)} (set REQUESTS_CA_BUNDLE to your CA bundle)") from exc
        except requests.exceptions.RequestException as exc:
            raise NgcError(f"Could not connect to {url}: {_short(exc)}") from exc
        log.debug("-> %s", response.status_code)
        return response

    def api_key(self) -> str:
        if not self.config.api_key:
            raise NgcError("No API key configured: run `ngc config set` or set NGC_CLI_API_KEY")
        return self.config.api_key

    def token(self, org: str | None = None, team: str | None = None) -> str:
        key = (org, team)
        cached = self._tokens.get(key)
        if cached and cached[1] > time.time() + 30:
            return cached[0]
        params = [("service", "ngc")]
        if org:
            params.append(("scope", f"group/ngc:{org}"))
            if team:
                params.append(("scope", f"group/ngc:{org}/{team}"))
        url = f"{self.base_url}/token"
        response = self.send("GET", url, params=params, auth=("$oauthtoken", self.api_key()))
        if response.status_code == 401:
            raise AuthError("Invalid API key", status=401)
        if response.status_code != 200:
            raise from_response(response)
        body = _json(response)
        token = body.get("token")
        if not token:
            raise NgcError(f"The token service at {url} answered without a token")
        self._tokens[key] = (token, time.time() + int(body.get("expires_in") or 300))
        return token

    # --- JSON API --------------------------------------------------------------------------
    def request(self, method: str, path: str, *, org: str | None = None, team: str | None = None,
                what: str | None = None, params: Any = None, json: Any = None, headers: dict[str, str] | None = None,
                ok: Iterable[int] = (200, 201, 202, 204), **kwargs: Any) -> Any:
        """Call `{base}{path}` with a token scoped to org/team (default: the configured ones).
        Returns the JSON body ({} when empty); errors become NgcError (`what` names a missing thing)."""
        org = org if org is not None else self.config.org_name
        team = team if team is not None else self.config.team_name
        url = path if path.startswith("http") else f"{self.base_url}/{path.lstrip('/')}"
        hdrs = {"Accept": "application/json"}
        if org:
            hdrs["nv-ngc-org"] = org
        if team:
            hdrs["nv-ngc-team"] = team
        hdrs.update(headers or {})
        for attempt in (1, 2):
            hdrs["Authorization"] = f"Bearer {self.token(org, team)}"
            response = self.send(method, url, params=params, json=json, headers=hdrs, **kwargs)
            if response.status_code == 401 and attempt == 1:
                self._tokens.pop((org, team), None)
                continue
            break
        if response.status_code not in ok:
            raise from_response(response, what)
        return _json(response) if response.content else {}

    def get(self, path: str, **kw: Any) -> Any:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Any:
        return self.request("POST", path, **kw)

    def patch(self, path: str, **kw: Any) -> Any:
        return self.request("PATCH", path, **kw)

    def put(self, path: str, **kw: Any) -> Any:
        return self.request("PUT", path, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.request("DELETE", path, **kw)

    def paged(self, path: str, key: str, *, page_size: int = 100, params: dict | None = None, **kw: Any) -> list:
        """All items of a paged listing (`page-size`/`page-number`, paginationInfo.totalPages)."""
        items, page = [], 0
        while True:
            query = dict(params or {})
            query.update({"page-size": page_size, "page-number": page})
            body = self.get(path, params=query, **kw)
            chunk = body.get(key) or []
            items.extend(chunk)
            info = body.get("paginationInfo") or {}
            total_pages = info.get("totalPages")
            if total_pages is None and info.get("totalResults") is not None and info.get("size"):
                total_pages = -(-int(info["totalResults"]) // int(info["size"]))
            page += 1
            if not chunk or total_pages is None or page >= int(total_pages):
                return items


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise NgcError(f"The response from {response.url} was not JSON (HTTP {response.status_code})") from None


def _short(exc: Exception) -> str:
    text = str(exc)
    if "Max retries exceeded" in text and "(Caused by " in text:
        text = text.split("(Caused by ", 1)[1].rstrip(")")
    return " ".join(text.split())[:200]
