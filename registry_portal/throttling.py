"""Request throttles kept in Django's "throttle" cache: failure lockouts and rate caps.

The counts live in Redis when REDIS_URL is set, so every gunicorn worker and node sees the same
ones (per process otherwise). A cache that does not answer never blocks or fails a request: the
throttle lets it through and logs why (fail open); the Redis client gives up after 1 s.

- `FailureLockout`: the caller records failures (a bad API key, an unknown invitation link); at
  `limit` failures within `window` seconds of the first, the key is refused until the window ends.
  Successes cost nothing and are never counted.
- `FailOpenRateThrottle`: DRF's SimpleRateThrottle (a sliding window of request times per key),
  with its rate read from a setting at request time and the fail-open rule above.
Both answer a wait in seconds, which the faces send as `Retry-After` with their 429.
Portal sign-in is throttled by django-axes instead (accounts/throttles.py).
"""
import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import caches
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

log = logging.getLogger(__name__)

CACHE_ALIAS = "throttle"


def _cache():
    return caches[CACHE_ALIAS]


def _digest(ident: str) -> str:
    # Keys hold no raw user names or credentials, and stay short whatever the client sends.
    return hashlib.sha256(ident.encode("utf-8", "replace")).hexdigest()[:32]


def client_ip(request) -> str:
    """The client's address as DRF's throttles see it (REGISTRY_PROXY_COUNT proxies trusted)."""
    return BaseThrottle().get_ident(request)


class FailureLockout:
    def __init__(self, scope: str, *, limit: int, window: int):
        self.scope, self.limit, self.window = scope, limit, window

    def _keys(self, ident: str) -> tuple[str, str]:
        key = f"lockout:{self.scope}:{_digest(ident)}"
        return key + ":count", key + ":since"

    def retry_after(self, ident: str) -> int | None:
        """Seconds until `ident` may try again, or None when it is not locked out."""
        count_key, since_key = self._keys(ident)
        try:
            values = _cache().get_many([count_key, since_key])
        except Exception as exc:  # noqa: BLE001 - any cache failure: fail open
            log.warning("throttle %s: cache unavailable, not throttling (%s)", self.scope, exc)
            return None
        if values.get(count_key, 0) < self.limit:
            return None
        since = values.get(since_key) or time.time()
        return max(1, int(since + self.window - time.time()) + 1)

    def record_failure(self, ident: str) -> None:
        count_key, since_key = self._keys(ident)
        cache = _cache()
        try:
            # add() only starts a window; incr() is atomic, so parallel failures all count.
            cache.add(since_key, time.time(), self.window)
            cache.add(count_key, 0, self.window)
            count = cache.incr(count_key)
        except ValueError:  # the window ended between add() and incr()
            return
        except Exception as exc:  # noqa: BLE001
            log.warning("throttle %s: cache unavailable, failure not counted (%s)", self.scope, exc)
            return
        if count == self.limit:
            log.warning("throttle %s: locked out after %d failures (key %s)", self.scope, count, _digest(ident)[:12])


class LockoutThrottle(BaseThrottle):
    """DRF throttle that refuses callers a `FailureLockout` has locked out; the view records failures."""

    def lockout(self) -> FailureLockout:
        raise NotImplementedError

    def ident(self, request) -> str:
        raise NotImplementedError

    def allow_request(self, request, view) -> bool:
        self._wait = self.lockout().retry_after(self.ident(request))
        return self._wait is None

    def wait(self) -> float | None:
        return self._wait


class FailOpenRateThrottle(SimpleRateThrottle):
    """SimpleRateThrottle whose rate is the Django setting `rate_setting` and that lets requests
    through (with a log line) when the cache does not answer."""

    rate_setting = ""

    @property
    def cache(self):
        return _cache()

    def get_rate(self) -> str:
        return getattr(settings, self.rate_setting)

    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except Exception as exc:  # noqa: BLE001
            log.warning("throttle %s: cache unavailable, not throttling (%s)", self.scope, exc)
            return True

    def key_for(self, ident: str) -> str:
        return self.cache_format % {"scope": self.scope, "ident": _digest(ident)}
