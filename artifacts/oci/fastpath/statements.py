"""The registry's per-request statements, written as SQL and, on PostgreSQL, prepared.

A docker push or pull runs a few statements per layer (blob HEAD, upload POST, PUT ?digest=,
blob GET, manifest GET). Building and compiling each through the ORM cost more CPU than the
database spent answering it (~1 ms for the blob HEAD's query), and planning each cost
PostgreSQL more than running it (0.24 ms against 0.06 ms per manifest lookup, pgbench); see
docs/performance.md. So these few are plain SQL, each replacing one ORM query of the same
meaning, and on PostgreSQL each connection PREPAREs them all on first use and then EXECUTEs
them by name. They run on SQLite too (parameters and dates go through the connection's own
adapters); tests/artifacts/test_registry_query_budget.py pins their count.

Prepared statements live in a database session, which a transaction-pooling PgBouncer does not
keep: set DATABASE_PREPARED_STATEMENTS=0 behind one (with DATABASE_CONN_MAX_AGE=0, a connection
per request, they are not used either). Everything else stays in the ORM.
"""
import json
import re
import uuid
import weakref
from datetime import datetime

import psycopg
from django.conf import settings
from django.db import connection, transaction

from accounts.models import User
from accounts.permissions import readable_spaces_params, readable_spaces_sql
from accounts.roles import Service
from artifacts.models import Blob, Manifest, ManifestBlob, ManifestChild, Repository, RepositoryBlob, Tag, UploadSession

REPOSITORY = Repository._meta.db_table
BLOB = Blob._meta.db_table
LINK = RepositoryBlob._meta.db_table
MANIFEST = Manifest._meta.db_table
TAG = Tag._meta.db_table
MANIFEST_BLOB = ManifestBlob._meta.db_table
MANIFEST_CHILD = ManifestChild._meta.db_table
SESSION = UploadSession._meta.db_table
USER = User._meta.db_table

# name -> SQL with %s placeholders
SQL = {
    "registry_repository_id": f"SELECT id FROM {REPOSITORY} WHERE name = %s",
    "registry_repository_blob": (
        f"SELECT r.id, b.id, b.size, b.last_linked_at FROM {REPOSITORY} r"
        f" LEFT JOIN {LINK} rb ON rb.repository_id = r.id AND rb.blob_id = (SELECT id FROM {BLOB} WHERE digest = %s)"
        f" LEFT JOIN {BLOB} b ON b.id = rb.blob_id"
        " WHERE r.name = %s"
    ),
    "registry_manifest_by_tag": (
        f"SELECT m.digest, m.media_type FROM {TAG} t"
        f" JOIN {REPOSITORY} r ON r.id = t.repository_id JOIN {MANIFEST} m ON m.id = t.manifest_id"
        " WHERE r.name = %s AND t.name = %s"
    ),
    "registry_manifest_by_digest": (
        f"SELECT m.digest, m.media_type FROM {MANIFEST} m JOIN {REPOSITORY} r ON r.id = m.repository_id"
        " WHERE r.name = %s AND m.digest = %s"
    ),
    "registry_upload_session": (
        f'SELECT s.repository_id, s."offset", s.generation, s.created_by_id, s.object_state FROM {SESSION} s'
        f" JOIN {REPOSITORY} r ON r.id = s.repository_id WHERE s.id = %s AND r.name = %s"
    ),
    "registry_session_insert": (
        f'INSERT INTO {SESSION} (id, repository_id, "offset", generation, created_by_id, created_at, updated_at)'
        " VALUES (%s, %s, 0, 0, %s, %s, %s) ON CONFLICT (id) DO NOTHING"
    ),
    # PostgreSQL only: the same, committed without waiting for the WAL flush (as registry_session_checkpoint_unflushed).
    "registry_session_insert_unflushed": (
        f'INSERT INTO {SESSION} (id, repository_id, "offset", generation, created_by_id, created_at, updated_at)'
        " SELECT %s, %s, 0, 0, %s, %s, %s FROM (SELECT set_config('synchronous_commit', 'off', true)) asynchronous_commit"
        " ON CONFLICT (id) DO NOTHING"
    ),
    # A compare-and-set on the generation: 0 rows when another request saved (or the session is gone).
    "registry_session_checkpoint": (
        f'UPDATE {SESSION} SET "offset" = %s, object_state = %s, generation = generation + 1, updated_at = %s'
        " WHERE id = %s AND generation = %s"
    ),
    # PostgreSQL only: the same, committed without waiting for the WAL flush (asynchronous commit):
    # set_config(..., true) lasts until the statement's own implicit transaction commits.
    "registry_session_checkpoint_unflushed": (
        f'UPDATE {SESSION} SET "offset" = %s, object_state = %s, generation = generation + 1, updated_at = %s'
        " FROM (SELECT set_config('synchronous_commit', 'off', true)) asynchronous_commit"
        " WHERE id = %s AND generation = %s"
    ),
    "registry_session_delete": f"DELETE FROM {SESSION} WHERE id = %s",
    # PostgreSQL only (artifacts.blobs.uploads.upload_writer_lock): one writer per upload session across nodes.
    "registry_upload_lock": "SELECT pg_try_advisory_lock(%s)",
    "registry_upload_unlock": "SELECT pg_advisory_unlock(%s)",
    # A new row is inserted verified (its caller hashed the bytes it is about to place); an existing
    # one keeps its verified_at, which the caller compares with its own to know which it got.
    "registry_blob_upsert": (
        f"INSERT INTO {BLOB} (digest, size, media_type, created_at, last_linked_at, verified_at)"
        " VALUES (%s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (digest) DO UPDATE SET last_linked_at = EXCLUDED.last_linked_at RETURNING id, verified_at"
    ),
    # PostgreSQL only: registry_blob_upsert and registry_link_insert of the row to repository $7 in one
    # statement (perf: a registry upload's commit is a round trip shorter; elsewhere the two run apart).
    "registry_blob_upsert_link": (
        f"WITH b AS (INSERT INTO {BLOB} (digest, size, media_type, created_at, last_linked_at, verified_at)"
        " VALUES (%s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (digest) DO UPDATE SET last_linked_at = EXCLUDED.last_linked_at RETURNING id, verified_at),"
        f" l AS (INSERT INTO {LINK} (repository_id, blob_id, created_at) SELECT %s, b.id, %s FROM b ON CONFLICT DO NOTHING)"
        " SELECT id, verified_at FROM b"
    ),
    "registry_link_insert": (
        f"INSERT INTO {LINK} (repository_id, blob_id, created_at) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING"
    ),
    # PostgreSQL only: one page of the tags of repository $3 after $1, at most $2, as the JSON array the
    # response carries (names: no rows through the driver, no json.dumps; tag_name_grammar admits no
    # character JSON would escape, so the names are joined as they are), its last name, and whether more
    # follow; no row when there is no such repository. perf: tag_unique_per_repository is the one index on
    # repository_id (Tag.repository), so the planner reads the page from it in order, statistics or not,
    # and finds the repository's greatest name at the end of it in one probe.
    "registry_tag_page": (
        "SELECT page.names, page.last, page.last < (SELECT max(n.name) FROM"
        f" {TAG} n WHERE n.repository_id = r.id)"
        f" FROM {REPOSITORY} r CROSS JOIN LATERAL"
        """ (SELECT COALESCE('["' || string_agg(p.name, '", "') || '"]', '[]') AS names, max(p.name) AS last"""
        f" FROM (SELECT t.name FROM {TAG} t WHERE t.repository_id = r.id AND t.name > %s"
        " ORDER BY t.name LIMIT %s) p) page WHERE r.name = %s"
    ),
    # Elsewhere (SQLite): the tags of repository `name` after `last` (at most the limit); one row with a NULL
    # tag when it has none, no row when there is no such repository. COALESCE: no limit, portably (SQLite refuses LIMIT NULL).
    "registry_tag_names": (
        f"SELECT t.name FROM {REPOSITORY} r LEFT JOIN {TAG} t ON t.repository_id = r.id AND t.name > %s"
        " WHERE r.name = %s ORDER BY t.name LIMIT COALESCE(%s, 9223372036854775807)"
    ),
    # The catalog: repositories the caller may pull (public ones, and those of spaces they may read).
    "registry_catalog": (
        f"SELECT r.name FROM {REPOSITORY} r"
        f" WHERE (r.is_public OR {readable_spaces_sql(org_column='r.org_id', team_column='r.team_id')}) AND r.name > %s"
        " ORDER BY r.name LIMIT COALESCE(%s, 9223372036854775807)"
    ),
    # PostgreSQL only (FOR KEY SHARE): the blobs of repository %s a manifest PUT references, locked in
    # id order (one global order: no deadlock) and only against deletion: PUTs sharing blobs, mounts
    # and upserts (which update last_linked_at) pass; GC's and a blob DELETE's FOR UPDATE wait.
    "registry_manifest_blobs_lock": (
        f"SELECT b.digest, b.id FROM {BLOB} b JOIN {LINK} l ON l.blob_id = b.id"
        " WHERE l.repository_id = %s AND b.digest = ANY(%s) ORDER BY b.id FOR KEY SHARE OF b, l"
    ),
    # A manifest PUT (artifacts.oci.services.manifest_put), apart from its links and tag where the
    # database is not PostgreSQL. The manifest row is inserted, or the existing one is locked (a
    # no-op update) and keeps its created_at, which the caller compares with its own to know which
    # it got, as with blobs.
    "registry_manifest_upsert": (
        f"INSERT INTO {MANIFEST} (repository_id, digest, media_type, size, blob_id, artifact_type, subject_digest,"
        " annotations, created_by_id, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        f" ON CONFLICT (repository_id, digest) DO UPDATE SET created_at = {MANIFEST}.created_at RETURNING id, created_at"
    ),
    # PostgreSQL only: registry_manifest_upsert, then, for a manifest inserted now, its blob links and
    # an index's children, and the tag (NULL for a PUT by digest) pointing at it with the repository
    # touched, in one statement (the foreign keys are checked at its end, the rows inserted by then).
    "registry_manifest_write": (
        f"WITH manifest AS (INSERT INTO {MANIFEST} (repository_id, digest, media_type, size, blob_id, artifact_type,"
        " subject_digest, annotations, created_by_id, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        f" ON CONFLICT (repository_id, digest) DO UPDATE SET created_at = {MANIFEST}.created_at RETURNING id, created_at),"
        " new AS (SELECT id FROM manifest WHERE created_at = %s),"
        f" blobs AS (INSERT INTO {MANIFEST_BLOB} (manifest_id, blob_id) SELECT new.id, blob FROM new, unnest(%s::bigint[]) blob),"
        f" children AS (INSERT INTO {MANIFEST_CHILD} (index_id, child_id) SELECT new.id, child FROM new, unnest(%s::bigint[]) child),"
        f" tag AS (INSERT INTO {TAG} (repository_id, name, manifest_id, updated_at)"
        " SELECT repository_id, name, id, now FROM manifest,"
        " (SELECT %s::bigint AS repository_id, %s::varchar AS name, %s::timestamptz AS now) put WHERE name IS NOT NULL"
        " ON CONFLICT (repository_id, name) DO UPDATE SET manifest_id = EXCLUDED.manifest_id, updated_at = EXCLUDED.updated_at"
        f" WHERE {TAG}.manifest_id <> EXCLUDED.manifest_id),"
        f" touch AS (UPDATE {REPOSITORY} SET updated_at = %s WHERE id = %s)"
        " SELECT id, created_at FROM manifest"
    ),
    # Not on PostgreSQL (registry_manifest_write there): the tag points at the manifest; updated_at
    # moves only when the tag does.
    "registry_tag_upsert": (
        f"INSERT INTO {TAG} (repository_id, name, manifest_id, updated_at) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (repository_id, name) DO UPDATE SET manifest_id = EXCLUDED.manifest_id, updated_at = EXCLUDED.updated_at"
        f" WHERE {TAG}.manifest_id <> EXCLUDED.manifest_id"
    ),
    "registry_repository_touch": f"UPDATE {REPOSITORY} SET updated_at = %s WHERE id = %s",
    # PostgreSQL only: a PUT of a manifest already in the repository (CI tags one image many times) as
    # one statement, so one implicit transaction without BEGIN/COMMIT round trips. The manifest row is
    # locked FOR KEY SHARE (a DELETE's FOR UPDATE waits for this commit; once it has deleted the row,
    # nothing is found and the caller stores the manifest anew), the tag (NULL for a PUT by digest)
    # points at it, the repository is touched. Returns the manifest's id; no row when there is none.
    "registry_manifest_retag": (
        f"WITH manifest AS (SELECT id FROM {MANIFEST} WHERE repository_id = %s AND digest = %s FOR KEY SHARE),"
        f" tag AS (INSERT INTO {TAG} (repository_id, name, manifest_id, updated_at)"
        " SELECT repository_id, name, id, now FROM manifest,"
        " (SELECT %s::bigint AS repository_id, %s::varchar AS name, %s::timestamptz AS now) put WHERE name IS NOT NULL"
        " ON CONFLICT (repository_id, name) DO UPDATE SET manifest_id = EXCLUDED.manifest_id, updated_at = EXCLUDED.updated_at"
        f" WHERE {TAG}.manifest_id <> EXCLUDED.manifest_id),"
        f" touch AS (UPDATE {REPOSITORY} SET updated_at = %s WHERE id = %s AND EXISTS (SELECT FROM manifest))"
        " SELECT id FROM manifest"
    ),
    "registry_manifest_id": f"SELECT id FROM {MANIFEST} WHERE repository_id = %s AND digest = %s",
    # Every write under a bearer token (artifacts.oci.auth.Caller): has the user changed since it was issued?
    "registry_user_authz": f"SELECT is_active, authz_version FROM {USER} WHERE id = %s",
    # A push under a token (Caller.require_push): the repository's id and that user's row in one round trip.
    "registry_push_target": (
        f"SELECT r.id, u.is_active, u.authz_version FROM (SELECT CAST(%s AS varchar) AS name, CAST(%s AS bigint) AS user_id) push"
        f" LEFT JOIN {REPOSITORY} r ON r.name = push.name LEFT JOIN {USER} u ON u.id = push.user_id"
    ),
}

# Raw PostgreSQL connections (psycopg's, one per Django connection's lifetime) holding the statements.
_prepared = weakref.WeakSet()


def _numbered(sql: str) -> str:
    """%s placeholders as PREPARE's $1, $2, ..."""
    numbers = iter(range(1, 1000))
    return re.sub(r"%s", lambda _: f"${next(numbers)}", sql)


def _prepared_statements() -> bool:
    # A connection closed after every request (CONN_MAX_AGE=0) would pay PREPARE on every request.
    return (
        connection.vendor == "postgresql" and settings.DATABASE_PREPARED_STATEMENTS
        and connection.settings_dict.get("CONN_MAX_AGE") != 0
    )


def _execute(cursor, name: str, params: list) -> None:
    if not _prepared_statements():
        cursor.execute(SQL[name], params)
        return
    raw = connection.connection
    if raw not in _prepared:
        # All at once, one round trip per connection; prepared statements outlive a rollback.
        cursor.execute("; ".join(f"PREPARE {key} AS {_numbered(sql)}" for key, sql in SQL.items()))
        _prepared.add(raw)
    cursor.execute(f"EXECUTE {name}({', '.join(['%s'] * len(params))})", params)


def _rows(name: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        _execute(cursor, name, params)
        return cursor.fetchall()


def _run(name: str, params: list) -> None:
    with connection.cursor() as cursor:
        _execute(cursor, name, params)


def _db_datetime(value: datetime):
    return connection.ops.adapt_datetimefield_value(value)


def _py_datetime(value) -> datetime:
    convert = getattr(connection.ops, "convert_datetimefield_value", None)  # SQLite returns text
    return convert(value, None, connection) if convert and value is not None else value


def _db_uuid(value: uuid.UUID):
    return UploadSession._meta.pk.get_db_prep_value(value, connection)


# --- reads ----------------------------------------------------------------------------------


def repository_id(name: str) -> int | None:
    rows = _rows("registry_repository_id", [name])
    return rows[0][0] if rows else None


def repository_blob(name: str, digest: str) -> tuple | None:
    """(repository id, blob id, size, last_linked_at) of blob `digest` in repository `name`;
    (repository id, None, None, None) when the repository lacks it; None when there is no such repository."""
    rows = _rows("registry_repository_blob", [digest, name])
    if not rows:
        return None
    repository, blob, size, linked = rows[0]
    return repository, blob, size, _py_datetime(linked)


def user_authz(user_id: int) -> tuple[bool, int] | None:
    """(is_active, authz_version) of user `user_id`, None when there is no such user."""
    rows = _rows("registry_user_authz", [user_id])
    return (bool(rows[0][0]), rows[0][1]) if rows else None


def push_target(name: str, *, user_id: int | None) -> tuple[int | None, tuple[bool, int] | None]:
    """(id of repository `name` or None, user_authz(user_id)) in one statement."""
    repository, is_active, authz_version = _rows("registry_push_target", [name, user_id])[0]
    return repository, None if is_active is None else (bool(is_active), authz_version)


def manifest_by_tag(name: str, tag: str) -> tuple[str, str] | None:
    """(digest, media type) of the manifest tag `tag` of repository `name` points to."""
    return _manifest_row("registry_manifest_by_tag", [name, tag])


def manifest_by_digest(name: str, digest: str) -> tuple[str, str] | None:
    return _manifest_row("registry_manifest_by_digest", [name, digest])


def _manifest_row(name: str, params: list[str]) -> tuple[str, str] | None:
    found = _executed_by_libpq(name, params)
    if found is None:
        rows = _rows(name, params)
        return rows[0] if rows else None
    return found[0] if found else None


def _executed_by_libpq(name: str, params: list[str]) -> list[tuple[str, str]] | None:
    """Rows of an already prepared two-text-column statement, executed on the session's libpq
    connection directly; None when it cannot be (the caller then runs it through a cursor).

    perf: manifest GET is the hottest registry read, and building a Django and a psycopg cursor,
    binding the parameters client-side and loading the result cost about a quarter of the
    worker's CPU per request: with this, 0.74-0.76 ms of gunicorn CPU per manifest GET at 32
    clients against 0.90-0.95, and PostgreSQL's 0.18 -> 0.15 ms (three interleaved pairs,
    docs/performance.md). Only outside a
    transaction (Django's autocommit: psycopg would have begun one for a cursor) and when nothing
    watches the queries (CaptureQueriesContext, execute wrappers: the query budgets count them).
    A text parameter with NUL (libpq would cut it short) or any failure goes the cursor's way, whose
    error handling then applies; the statement is a read, so nothing is left half-done."""
    raw = connection.connection
    if (
        raw is None or raw not in _prepared or not connection.get_autocommit()
        or connection.queries_logged or connection.execute_wrappers
        or any("\x00" in param for param in params)
    ):
        return None
    try:
        result = raw.pgconn.exec_prepared(name.encode(), [param.encode() for param in params])
    except psycopg.Error:
        return None
    if result.status != psycopg.pq.ExecStatus.TUPLES_OK:
        return None
    return [
        (result.get_value(row, 0).decode(), result.get_value(row, 1).decode())  # type: ignore[union-attr]
        for row in range(result.ntuples)
    ]


# "No limit" for LIMIT: PostgreSQL's bigint, with room to spare.
ALL_ROWS = 2**62


def tag_page(name: str, *, last: str | None, limit: int | None) -> tuple[str, str | None] | None:
    """One page of the tag names of repository `name` in lexical order after `last`, at most `limit`:
    (the names as a JSON array, the page's last name when more follow, else None); None when there is
    no such repository."""
    if connection.vendor == "postgresql":
        rows = _rows("registry_tag_page", [last or "", limit if limit is not None else ALL_ROWS, name])
        if not rows:
            return None
        names, page_last, more = rows[0]
        return names, page_last if more and limit is not None else None
    rows = _rows("registry_tag_names", [last or "", name, limit + 1 if limit is not None else None])
    if not rows:
        return None
    tags = [tag for (tag,) in rows if tag is not None]
    page = tags[:limit] if limit is not None else tags
    return json.dumps(page), page[-1] if page and len(tags) > len(page) else None


def catalog_names(user, *, last: str | None, limit: int | None) -> list[str]:
    """Names of the repositories `user` may pull (public ones, and those of spaces where they may
    read containers: accounts.permissions.readable_spaces_sql) in lexical order after `last`, at most `limit`."""
    params = [*readable_spaces_params(user, Service.CONTAINER), last or "", limit]
    return [name for (name,) in _rows("registry_catalog", params)]


# In the model's field order: Model.from_db assigns a subset of fields by that order, not by these names.
SESSION_FIELDS = ["id", "repository_id", "offset", "generation", "created_by_id", "object_state"]
_OBJECT_STATE = UploadSession._meta.get_field("object_state")


def upload_session(name: str, session_id: uuid.UUID) -> UploadSession | None:
    """Upload session `session_id` of repository `name` (id, repository id, offset, generation,
    creator and object state loaded; the timestamps deferred)."""
    rows = _rows("registry_upload_session", [_db_uuid(session_id), name])
    if not rows:
        return None
    *columns, object_state = rows[0]
    object_state = _OBJECT_STATE.from_db_value(object_state, None, connection)  # raw SQL: decoded here
    return UploadSession.from_db(connection.alias, SESSION_FIELDS, [session_id, *columns, object_state])


# --- writes (callers hold the transaction) --------------------------------------------------


def _flushed_or_not(name: str, flush: bool) -> str:
    """Statement `name`, or its `_unflushed` twin (committed without waiting for the WAL flush) when
    `flush` is off and it runs as its own transaction on PostgreSQL (never inside a caller's)."""
    unflushed = not flush and connection.vendor == "postgresql" and not connection.in_atomic_block
    return f"{name}_unflushed" if unflushed else name


def session_insert(
    *, session_id: uuid.UUID, repository_id: int, user_id: int | None, now: datetime, flush: bool = True
) -> bool:
    """Insert the row of session `session_id`; False when there is one already. Outside a transaction
    on PostgreSQL, `flush=False` commits it without waiting for the WAL flush."""
    with connection.cursor() as cursor:
        _execute(cursor, _flushed_or_not("registry_session_insert", flush), [_db_uuid(session_id), repository_id, user_id, _db_datetime(now), _db_datetime(now)])
        return cursor.rowcount == 1


def session_checkpoint(
    *, session_id: uuid.UUID, offset: int, object_state: dict | None, generation: int, now: datetime, flush: bool = True
) -> bool:
    """Save `offset` (and, on S3, where its bytes are) and bump the generation, if the session is
    still at `generation`. `flush=False`: on PostgreSQL, outside a caller's transaction, the commit
    does not wait for the WAL flush (visible at once, undone only by a crash of the database server)."""
    state = None if object_state is None else json.dumps(object_state, separators=(",", ":"))
    with connection.cursor() as cursor:
        _execute(cursor, _flushed_or_not("registry_session_checkpoint", flush), [offset, state, _db_datetime(now), _db_uuid(session_id), generation])
        return cursor.rowcount == 1


def upload_lock(key: int) -> bool:
    """Take PostgreSQL's session-level advisory lock `key` if free (never waits)."""
    return bool(_rows("registry_upload_lock", [key])[0][0])


def upload_unlock(key: int) -> None:
    _run("registry_upload_unlock", [key])


def session_delete(session_id: uuid.UUID) -> None:
    _run("registry_session_delete", [_db_uuid(session_id)])


def blob_upsert(
    *, digest: str, size: int, media_type: str, now: datetime, link_repository_id: int | None = None
) -> tuple[int, datetime | None]:
    """(id, verified_at) of the blob row for `digest`: inserted if new (verified at `now`), else
    locked and marked as linked now, its verified_at as it was; and linked to repository
    `link_repository_id` if given (link_insert)."""
    when = _db_datetime(now)
    params = [digest, size, media_type, when, when, when]
    if link_repository_id is not None and connection.vendor == "postgresql":
        rows = _rows("registry_blob_upsert_link", [*params, link_repository_id, when])
        blob_id, verified_at = rows[0]
        return blob_id, _py_datetime(verified_at)
    blob_id, verified_at = _rows("registry_blob_upsert", params)[0]
    if link_repository_id is not None:
        link_insert(repository_id=link_repository_id, blob_id=blob_id, now=now)
    return blob_id, _py_datetime(verified_at)


def manifest_blobs_lock(*, repository_id: int, digests: set[str]) -> dict[str, int]:
    """{digest: id} of those of `digests` linked to the repository, locked against deletion
    (registry_manifest_blobs_lock); elsewhere (SQLite: one writer at a time) only read."""
    if connection.vendor != "postgresql":
        return dict(Blob.objects.filter(digest__in=digests, repositoryblob__repository_id=repository_id).values_list("digest", "id"))
    return dict(_rows("registry_manifest_blobs_lock", [repository_id, sorted(digests)]))


def link_insert(*, repository_id: int, blob_id: int, now: datetime) -> None:
    _run("registry_link_insert", [repository_id, blob_id, _db_datetime(now)])


def manifest_upsert(
    *, repository_id: int, digest: str, media_type: str, size: int, blob_id: int, artifact_type: str,
    subject_digest: str, annotations: dict, user_id: int | None, now: datetime,
) -> tuple[int, bool]:
    """(id, inserted) of manifest `digest` of the repository: inserted now if new, else locked."""
    rows = _rows("registry_manifest_upsert", [
        repository_id, digest, media_type, size, blob_id, artifact_type, subject_digest,
        json.dumps(annotations), user_id, _db_datetime(now),
    ])
    manifest_id, created_at = rows[0]
    return manifest_id, _py_datetime(created_at) == now


def manifest_write(
    *, repository_id: int, digest: str, media_type: str, size: int, blob_id: int, artifact_type: str,
    subject_digest: str, annotations: dict, user_id: int | None, blob_ids: list[int], child_ids: list[int],
    tag: str | None, now: datetime,
) -> tuple[int, bool]:
    """(id, inserted) of manifest `digest` of the repository: inserted now if new, with its links to
    `blob_ids` and `child_ids`, else locked; then under `tag` (None: a PUT by digest) with the
    repository touched. One statement on PostgreSQL (registry_manifest_write), a few elsewhere."""
    if connection.vendor != "postgresql":
        manifest_id, created = manifest_upsert(
            repository_id=repository_id, digest=digest, media_type=media_type, size=size, blob_id=blob_id,
            artifact_type=artifact_type, subject_digest=subject_digest, annotations=annotations, user_id=user_id, now=now,
        )
        if created:
            ManifestBlob.objects.bulk_create([ManifestBlob(manifest_id=manifest_id, blob_id=b) for b in blob_ids])
            ManifestChild.objects.bulk_create([ManifestChild(index_id=manifest_id, child_id=c) for c in child_ids])
        if tag is not None:
            tag_upsert(repository_id=repository_id, name=tag, manifest_id=manifest_id, now=now)
        repository_touch(repository_id=repository_id, now=now)
        return manifest_id, created
    when = _db_datetime(now)
    rows = _rows("registry_manifest_write", [
        repository_id, digest, media_type, size, blob_id, artifact_type, subject_digest, json.dumps(annotations),
        user_id, when, when, sorted(blob_ids), sorted(child_ids), repository_id, tag, when, when, repository_id,
    ])
    manifest_id, created_at = rows[0]
    return manifest_id, _py_datetime(created_at) == now


def manifest_retag(*, repository_id: int, digest: str, tag: str | None, now: datetime) -> int | None:
    """Id of manifest `digest` of the repository, now under `tag` (None: a PUT by digest) with the
    repository touched; None, writing nothing, when the repository has no such manifest. One
    statement that is its own transaction on PostgreSQL (registry_manifest_retag); elsewhere
    (SQLite) a few in one."""
    if connection.vendor != "postgresql":
        with transaction.atomic():
            rows = _rows("registry_manifest_id", [repository_id, digest])
            if rows and tag is not None:
                tag_upsert(repository_id=repository_id, name=tag, manifest_id=rows[0][0], now=now)
            if rows:
                repository_touch(repository_id=repository_id, now=now)
            return rows[0][0] if rows else None
    when = _db_datetime(now)
    rows = _rows("registry_manifest_retag", [repository_id, digest, repository_id, tag, when, when, repository_id])
    return rows[0][0] if rows else None


def tag_upsert(*, repository_id: int, name: str, manifest_id: int, now: datetime) -> None:
    _run("registry_tag_upsert", [repository_id, name, manifest_id, _db_datetime(now)])


def repository_touch(*, repository_id: int, now: datetime) -> None:
    _run("registry_repository_touch", [_db_datetime(now), repository_id])
