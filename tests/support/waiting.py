"""Polling for what another process (the live server, a Celery worker) does in its own time."""
import time
from collections.abc import Callable
from typing import TypeVar

from artifacts.versioned.models import ArtifactVersion, VersionStatus

T = TypeVar("T")


def wait_until(check: Callable[[], T], *, timeout: float, what: str, interval: float = 0.2) -> T:
    """The first truthy value `check()` returns; AssertionError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(interval)
    raise AssertionError(f"{what} within {timeout}s")


def wait_for_status(version: ArtifactVersion, timeout: float = 60) -> ArtifactVersion:
    """`version`, refreshed, once a worker has moved it out of UPLOAD_PENDING."""

    def settled() -> ArtifactVersion | None:
        version.refresh_from_db()
        return version if version.status != VersionStatus.UPLOAD_PENDING else None

    return wait_until(settled, timeout=timeout, what=f"{version} left {VersionStatus.UPLOAD_PENDING}")
