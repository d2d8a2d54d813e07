"""Races staged on purpose: another connection holds its locks while the test's code runs into them."""
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connection, transaction


@contextmanager
def held_by_another_transaction(work: Callable[[], None], *, release_after: float = 0.5) -> Iterator[None]:
    """Run `work` in a transaction on another thread (its own database connection) and keep that
    transaction open while the block runs; it commits `release_after` seconds into the block, so a
    statement of the block that needs its locks waits for them."""
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                work()
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(10), "the other transaction did not take its locks"
    timer = threading.Timer(release_after, release.set)
    timer.start()
    try:
        yield
    finally:
        holder.join(10)
        timer.join()
