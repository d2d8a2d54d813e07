"""One writer per registry upload session, across threads, processes and machines.

On PostgreSQL a request that writes a session's bytes (PATCH, PUT, DELETE) first takes a
session-level advisory lock keyed by the session id, without waiting, and only then reads the
session row, so it sees the offset its predecessor saved before letting go. The lock lives in the
database, which every app node shares; a worker that dies (kill -9, a lost machine) drops its
connection and with it the lock, so a resume is never blocked by a dead writer. Advisory locks
belong to a database session: behind a transaction-pooling PgBouncer, give the app a
session-pooled connection (as for the prepared statements, docs/performance.md).

SQLite serves one machine only; there the blob store's exclusive file lock on the upload file
(taken by every writer, on every database) is the lock. On PostgreSQL that file lock is a second
fence: if a writer's database connection broke mid-body and another request took the advisory
lock, the file lock still keeps the two from writing the same file at once on one machine (or NFS).
"""
import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DatabaseError, connection

from artifacts.oci.fastpath import statements


def lock_key(session_id: uuid.UUID) -> int:
    """A signed 64-bit advisory lock key for the session (namespaced, so other advisory locks of
    the database cannot collide with it by accident)."""
    digest = hashlib.blake2b(session_id.bytes, digest_size=8, person=b"upload-session").digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def upload_writer_lock(session_id: uuid.UUID) -> Iterator[bool]:
    """Try to become the session's only writer: yields True when this request holds the lock until
    the block ends, False when another request holds it (nothing waits)."""
    if connection.vendor != "postgresql":
        yield True  # one machine: the upload file's lock (blob store) is the writer lock
        return
    key = lock_key(session_id)
    held = statements.upload_lock(key)
    try:
        yield held
    finally:
        if held:
            try:
                statements.upload_unlock(key)
            except DatabaseError:
                # The connection is unusable (e.g. the database restarted): closing it is what
                # releases a session-level lock, if the server still holds one.
                connection.close()
