"""Django's per-request receivers that do nothing in this deployment, disconnected in the served process.

Every request sends request_started and request_finished, and each receiver walks the thread's
database connections or caches: about 30 of the 210 µs of CPU Django spends on a manifest GET
(docs/performance.md). Two of them have nothing to do here:

- reset_queries empties the connections' query logs, which only DEBUG fills (a
  CaptureQueriesContext, which also fills them, disconnects it for its duration itself);
- close_caches closes the caches a request used, which does something only for memcached's
  backends (the others' close() is BaseCache's no-op).

close_old_connections (DATABASE_CONN_MAX_AGE, connections left broken or mid-transaction) and
reset_urlconf (HELM_HOST's routes) do work on every request and stay.
"""
from django.conf import settings
from django.core.cache import close_caches
from django.core.cache.backends.base import BaseCache
from django.core.signals import request_finished, request_started
from django.db import reset_queries
from django.utils.module_loading import import_string


def disconnect_idle_request_receivers() -> None:
    if not settings.DEBUG:
        request_started.disconnect(reset_queries)
    if not any(_cache_closes(options["BACKEND"]) for options in settings.CACHES.values()):
        request_finished.disconnect(close_caches)


def _cache_closes(backend: str) -> bool:
    return import_string(backend).close is not BaseCache.close
