"""The registry's per-request statements, written as SQL.

A docker push or pull runs a few statements per layer (blob HEAD, upload POST, PUT ?digest=,
blob GET, manifest GET). Building and compiling each through the ORM cost more CPU than the
database spent answering it (~1 ms for the blob HEAD's query against ~0.1 ms of SQL; see
docs/performance.md), so these few are plain SQL, each replacing one ORM query of the same
meaning. They run on PostgreSQL and SQLite alike (parameters and dates go through the
connection's own adapters) and tests/artifacts/test_registry_query_budget.py pins their count.
Everything else stays in the ORM.
"""
import uuid
from datetime import datetime

from django.db import connection

from artifacts.models import Blob, Manifest, Repository, RepositoryBlob, Tag, UploadSession

REPOSITORY = Repository._meta.db_table
BLOB = Blob._meta.db_table
LINK = RepositoryBlob._meta.db_table
MANIFEST = Manifest._meta.db_table
TAG = Tag._meta.db_table
SESSION = UploadSession._meta.db_table


def _rows(sql: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _db_datetime(value: datetime):
    return connection.ops.adapt_datetimefield_value(value)


def _py_datetime(value) -> datetime:
    convert = getattr(connection.ops, "convert_datetimefield_value", None)  # SQLite returns text
    return convert(value, None, connection) if convert and value is not None else value


def _db_uuid(value: uuid.UUID):
    return UploadSession._meta.pk.get_db_prep_value(value, connection)


# --- reads ----------------------------------------------------------------------------------


def repository_id(name: str) -> int | None:
    rows = _rows(f"SELECT id FROM {REPOSITORY} WHERE name = %s", [name])
    return rows[0][0] if rows else None


def repository_blob(name: str, digest: str) -> tuple | None:
    """(repository id, blob id, size, last_linked_at) of blob `digest` in repository `name`;
    (repository id, None, None, None) when the repository lacks it; None when there is no such repository."""
    rows = _rows(
        f"SELECT r.id, b.id, b.size, b.last_linked_at FROM {REPOSITORY} r"
        f" LEFT JOIN {LINK} rb ON rb.repository_id = r.id AND rb.blob_id = (SELECT id FROM {BLOB} WHERE digest = %s)"
        f" LEFT JOIN {BLOB} b ON b.id = rb.blob_id"
        " WHERE r.name = %s",
        [digest, name],
    )
    if not rows:
        return None
    repository, blob, size, linked = rows[0]
    return repository, blob, size, _py_datetime(linked)


def manifest_by_tag(name: str, tag: str) -> tuple[str, str] | None:
    """(digest, media type) of the manifest tag `tag` of repository `name` points to."""
    rows = _rows(
        f"SELECT m.digest, m.media_type FROM {TAG} t"
        f" JOIN {REPOSITORY} r ON r.id = t.repository_id JOIN {MANIFEST} m ON m.id = t.manifest_id"
        " WHERE r.name = %s AND t.name = %s",
        [name, tag],
    )
    return rows[0] if rows else None


def manifest_by_digest(name: str, digest: str) -> tuple[str, str] | None:
    rows = _rows(
        f"SELECT m.digest, m.media_type FROM {MANIFEST} m JOIN {REPOSITORY} r ON r.id = m.repository_id"
        " WHERE r.name = %s AND m.digest = %s",
        [name, digest],
    )
    return rows[0] if rows else None


def upload_session(name: str, session_id: uuid.UUID) -> UploadSession | None:
    """Upload session `session_id` of repository `name` (id, repository id, offset and creator
    loaded; the timestamps deferred)."""
    rows = _rows(
        f'SELECT s.repository_id, s."offset", s.created_by_id FROM {SESSION} s'
        f" JOIN {REPOSITORY} r ON r.id = s.repository_id WHERE s.id = %s AND r.name = %s",
        [_db_uuid(session_id), name],
    )
    if not rows:
        return None
    return UploadSession.from_db(connection.alias, ["id", "repository_id", "offset", "created_by_id"], [session_id, *rows[0]])


# --- writes (callers hold the transaction) --------------------------------------------------


def session_insert(*, repository_id: int, user_id: int | None, now: datetime) -> uuid.UUID:
    session_id = uuid.uuid4()
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO {SESSION} (id, repository_id, "offset", created_by_id, created_at, updated_at)'
            " VALUES (%s, %s, 0, %s, %s, %s)",
            [_db_uuid(session_id), repository_id, user_id, _db_datetime(now), _db_datetime(now)],
        )
    return session_id


def session_delete(session_id: uuid.UUID) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {SESSION} WHERE id = %s", [_db_uuid(session_id)])


def blob_upsert(*, digest: str, size: int, media_type: str, now: datetime) -> int:
    """The id of the blob row for `digest`, inserted if new, else locked and marked as linked now."""
    when = _db_datetime(now)
    rows = _rows(
        f"INSERT INTO {BLOB} (digest, size, media_type, created_at, last_linked_at) VALUES (%s, %s, %s, %s, %s)"
        " ON CONFLICT (digest) DO UPDATE SET last_linked_at = EXCLUDED.last_linked_at RETURNING id",
        [digest, size, media_type, when, when],
    )
    return rows[0][0]


def link_insert(*, repository_id: int, blob_id: int, now: datetime) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {LINK} (repository_id, blob_id, created_at) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
            [repository_id, blob_id, _db_datetime(now)],
        )
