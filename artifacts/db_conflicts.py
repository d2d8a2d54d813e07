"""Retrying a transaction PostgreSQL aborted to break a lock cycle (deadlock) or a serialization
conflict: both mean "nothing was written, run it again", so a short write whose inputs are in
memory is retried in a fresh transaction rather than answered 503 (registry_portal.server_errors)."""
from collections.abc import Callable
from typing import TypeVar

from django.db import OperationalError, connection

T = TypeVar("T")
RETRIES = 2


def _is_conflict(error: OperationalError) -> bool:
    try:
        from psycopg import errors
    except ImportError:  # SQLite only: no such conflicts
        return False
    return isinstance(error.__cause__, (errors.DeadlockDetected, errors.SerializationFailure))


def retry_on_conflict(work: Callable[[], T]) -> T:
    """`work()` (which opens its own transaction.atomic()), run again up to RETRIES times when the
    database aborted it for a deadlock or serialization failure. Inside an outer transaction the
    abort spoils that one too, so there it is not retried."""
    for attempt in range(RETRIES + 1):
        nested = connection.in_atomic_block
        try:
            return work()
        except OperationalError as error:
            if nested or attempt == RETRIES or not _is_conflict(error):
                raise
    raise AssertionError("unreachable")
