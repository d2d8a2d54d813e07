"""Each pytest-xdist worker gets Redis and Celery of its own (`pytest -n 2 -p tests.support.xdist_worker`,
as scripts/test runs it).

Loaded with `-p`, this module is imported before pytest-django loads the Django settings, which read
REDIS_URL and CELERY_QUEUE from the environment once; the live servers and Celery workers a test
starts inherit that environment. Worker gwN uses Redis database (REDIS_URL's + N) and the queue
`<CELERY_QUEUE>-gwN`, so one worker's flush, throttle reset or cached Helm index never reaches the
other's, and a Celery worker never takes the other's tasks (whose rows live in the other's test
database). pytest-django already suffixes the test database (`_gw0`, `_gw1`) and xdist the
temporary folders. Without xdist, nothing changes.
"""
import os
from urllib.parse import urlsplit, urlunsplit

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
ISOLATED = "REGISTRY_TEST_WORKER"  # set once this module has moved the worker to its own Redis and queue


def _redis_url_of_worker(url: str, index: int) -> str:
    parts = urlsplit(url)
    base = int(parts.path.lstrip("/") or 0)
    if base + index > 15:  # Redis' default `databases 16`
        raise RuntimeError(f"REDIS_URL={url}: worker {index} would need Redis database {base + index}; pick a lower one")
    return urlunsplit(parts._replace(path=f"/{base + index}"))


if WORKER and os.environ.get(ISOLATED) != WORKER:
    index = int(WORKER.removeprefix("gw"))
    if os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = _redis_url_of_worker(os.environ["REDIS_URL"], index)
    os.environ["CELERY_QUEUE"] = f"{os.environ.get('CELERY_QUEUE', 'registry')}-{WORKER}"
    os.environ[ISOLATED] = WORKER
