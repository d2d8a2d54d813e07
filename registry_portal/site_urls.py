"""The URLs the portal shows users to paste into docker, helm, curl and the ngc CLI.

Every one is built from settings.SITE_URL (REGISTRY_SITE_URL): its scheme and host are the ones
clients must use, whatever host or scheme the page itself was served on (a proxy may terminate
TLS, and an `http://` server given `https://` commands answers none of them).
"""
from urllib.parse import urlsplit

from django.conf import settings


def site_url() -> str:
    """The site's base URL, `scheme://host[:port]`, without a trailing slash."""
    return settings.SITE_URL.rstrip("/")


def registry_host() -> str:
    """The `host[:port]` docker references start with (`docker pull <host>/<org>/<repo>:<tag>`)."""
    return urlsplit(site_url()).netloc


def helm_repository_url(space_path: str) -> str:
    """The URL `helm repo add` takes for a space (`<org>` or `<org>/<team>`)."""
    return f"{site_url()}/helm/{space_path}"


def helm_push_url(space_path: str) -> str:
    """The ChartMuseum upload URL `helm cm-push` and curl post a package to."""
    return f"{site_url()}/helm/api/{space_path}/charts"


def context(request) -> dict:
    """Template context processor: `site_url` and `registry_host` on every page."""
    return {"site_url": site_url(), "registry_host": registry_host()}
