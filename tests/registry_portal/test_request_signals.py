"""registry_portal.request_signals: the served process skips per-request receivers with nothing to do."""
import weakref

import pytest
from django.core.cache import close_caches
from django.core.handlers.base import reset_urlconf
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, reset_queries
from django.test import override_settings

from registry_portal.request_signals import disconnect_idle_request_receivers


def _receivers(signal) -> list:
    return [ref() if isinstance(ref, weakref.ReferenceType) else ref for _, ref, *_ in signal.receivers]


@pytest.fixture(autouse=True)
def reconnected():
    yield
    request_started.connect(reset_queries)
    request_finished.connect(close_caches)


@override_settings(DEBUG=False)
def test_it_drops_the_query_log_reset_and_the_cache_close_and_keeps_the_rest():
    disconnect_idle_request_receivers()
    assert reset_queries not in _receivers(request_started)
    assert close_caches not in _receivers(request_finished)
    assert close_old_connections in _receivers(request_started)  # CONN_MAX_AGE, broken connections
    assert close_old_connections in _receivers(request_finished)
    assert reset_urlconf in _receivers(request_finished)  # HELM_HOST's routes


@override_settings(DEBUG=True)
def test_with_debug_each_request_starts_a_new_query_log():
    disconnect_idle_request_receivers()
    assert reset_queries in _receivers(request_started)


@override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache", "LOCATION": "127.0.0.1:11211"}})
def test_memcached_connections_are_still_closed_after_each_request():
    disconnect_idle_request_receivers()
    assert close_caches in _receivers(request_finished)
