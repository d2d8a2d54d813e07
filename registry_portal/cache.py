"""Django's Redis cache, degraded to no cache while Redis is unreachable.

The cache only saves work (a rendered Helm index, an image's platforms), so a Redis outage must cost
speed, never a request: reads answer a miss and fills are skipped. Invalidations (`incr`, `delete`,
`clear`) still raise `CacheUnavailable`, because skipping one would let a stale entry be served once
Redis is back; their callers run them through the outbox, which retries them. After a failure Redis
is left alone for RETRY_AFTER seconds, so a request pays its connection timeout at most once.
"""
import logging
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

RETRY_AFTER = 5.0


class CacheUnavailable(Exception):
    """An invalidation could not reach the cache."""


class DegradingRedisCache(RedisCache):
    # Per process and Redis location: the monotonic time before which Redis is not tried again.
    _down_until: dict[str, float] = {}

    def _available(self) -> bool:
        return time.monotonic() >= self._down_until.get(str(self._servers), 0.0)

    def _failed(self, operation: str, exc: Exception) -> None:
        if self._available():
            log.warning("cache: Redis unreachable during %s (%s); serving without cache for %ss", operation, exc, RETRY_AFTER)
        self._down_until[str(self._servers)] = time.monotonic() + RETRY_AFTER

    def _read(self, operation: str, default, call):
        if not self._available():
            return default
        try:
            return call()
        except (RedisError, OSError) as exc:
            self._failed(operation, exc)
            return default

    def _invalidate(self, operation: str, call):
        if not self._available():
            raise CacheUnavailable(f"cache {operation}: Redis is unreachable")
        try:
            return call()
        except (RedisError, OSError) as exc:
            self._failed(operation, exc)
            raise CacheUnavailable(f"cache {operation}: {exc}") from exc

    def get(self, key, default=None, version=None):
        return self._read("get", default, lambda: super(DegradingRedisCache, self).get(key, default, version))

    def get_many(self, keys, version=None):
        return self._read("get_many", {}, lambda: super(DegradingRedisCache, self).get_many(keys, version))

    def has_key(self, key, version=None):
        return self._read("has_key", False, lambda: super(DegradingRedisCache, self).has_key(key, version))

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._read("add", False, lambda: super(DegradingRedisCache, self).add(key, value, timeout, version))

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        self._read("set", None, lambda: super(DegradingRedisCache, self).set(key, value, timeout, version))

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._read("set_many", list(data), lambda: super(DegradingRedisCache, self).set_many(data, timeout, version))

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._read("touch", False, lambda: super(DegradingRedisCache, self).touch(key, timeout, version))

    def incr(self, key, delta=1, version=None):
        return self._invalidate("incr", lambda: super(DegradingRedisCache, self).incr(key, delta, version))

    def delete(self, key, version=None):
        return self._invalidate("delete", lambda: super(DegradingRedisCache, self).delete(key, version))

    def delete_many(self, keys, version=None):
        return self._invalidate("delete_many", lambda: super(DegradingRedisCache, self).delete_many(keys, version))

    def clear(self):
        return self._invalidate("clear", lambda: super(DegradingRedisCache, self).clear())
