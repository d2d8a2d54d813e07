"""Registry handlers: HTTP in, services and the blob store, the spec's headers and errors out.

Bodies are read from `wsgi.input` in fixed-size chunks (clients push with Transfer-Encoding:
chunked, which Django's request.read() does not handle); blobs are served with FileResponse so
gunicorn sends them from the file (registry_portal.mapped_send).
"""
import json
import re
import threading
from functools import wraps
from urllib.parse import urlencode

from cachetools import LRUCache, cached
from django.db import connection
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from registry_portal.errors import InvalidInput
from artifacts import selectors
from artifacts.oci.fastpath import statements
from artifacts.blobs import links, uploads
from artifacts.blobs.errors import BlobError, RangeMismatch, UploadInUse
from artifacts.blobs.serve import BlobMissing, blob_response
from artifacts.digests import InvalidDigest, is_digest, parse_digest
from artifacts.models import Repository, UploadSession
from artifacts.oci import services
from artifacts.oci.auth import DELETE, PULL, PUSH, authenticate, challenge
from registry_portal.oci_errors import API_VERSION_HEADER, OCIError, error_response
from artifacts.oci.manifests import MAX_MANIFEST_BYTES, OCI_INDEX
from artifacts.oci.names import InvalidName, resolve_name, validate_name
from artifacts.request_bodies import MalformedBody, request_body
from artifacts.blobs.store import get_blob_store
from registry_portal import http_ranges

CHUNK = 1024 * 1024
_CONTENT_RANGE_RE = re.compile(r"^(?:bytes[ =])?(\d+)-(\d+)(?:/\d+|/\*)?$")


def registry_view(*methods):
    """Method dispatch, authentication, and the error envelope for one registry route."""

    def decorate(handler):
        @csrf_exempt
        @wraps(handler)
        def view(request, **kwargs):
            try:
                if request.method not in methods:
                    raise OCIError("UNSUPPORTED", f"{request.method} is not supported here", headers={"Allow": ", ".join(methods)})
                request.registry_caller = authenticate(request)
                if "name" in kwargs:
                    try:
                        validate_name(kwargs["name"])
                    except InvalidName as exc:
                        raise OCIError("NAME_INVALID", detail=str(exc)) from None
                response = handler(request, **kwargs)
            except BlobError as exc:
                response = error_response(OCIError(exc.code, str(exc)))
            except OCIError as exc:
                response = error_response(exc)
                if request.method == "HEAD":
                    # No body: gunicorn drops it anyway, and logs a warning for each answer that had one.
                    response.content = b""
                    if response.status_code == 404:
                        # An existence check that misses is the protocol's normal flow (docker HEADs every
                        # layer before pushing it), not worth a django.request warning each; the access log has it.
                        response._has_been_logged = True
            response[API_VERSION_HEADER[0]] = API_VERSION_HEADER[1]
            if not response.streaming and not response.has_header("Content-Length"):
                # What CommonMiddleware, which registry routes skip, would add. perf: without it gunicorn
                # frames the body in chunks, one more send (the terminator) and a slower read for the client.
                response["Content-Length"] = str(len(response.content))
            return response

        return view

    return decorate


def _empty(status: int) -> HttpResponse:
    response = HttpResponse(status=status)
    response["Content-Length"] = "0"
    return response


def _json(data, status: int = 200, content_type: str = "application/json") -> HttpResponse:
    return HttpResponse(json.dumps(data), status=status, content_type=content_type)


def iter_body(request):
    """Yield the request body in pieces, with or without Content-Length (chunked framing undone).
    Each piece is a view of one reused buffer, valid until the next is asked for."""
    try:
        body = request_body(request)
    except InvalidInput as exc:  # a Content-Length that is not a number
        raise OCIError("SIZE_INVALID", str(exc)) from None
    length = request.META.get("CONTENT_LENGTH")
    size = min(CHUNK, int(length)) if length and length.isdigit() else CHUNK  # small layers: a small buffer
    view = memoryview(bytearray(max(size, 1)))
    try:
        while n := body.readinto(view):
            yield view[:n]  # a short body (the client went away) ends early; what arrived is kept for a resume
    except MalformedBody as exc:
        raise OCIError("BLOB_UPLOAD_INVALID", str(exc)) from None
    finally:
        body.release()


def _read_limited(request, limit: int) -> bytes:
    parts, total = [], 0
    for chunk in iter_body(request):
        total += len(chunk)
        if total > limit:
            raise OCIError("MANIFEST_INVALID", f"manifests are limited to {limit} bytes", status=413)
        parts.append(bytes(chunk))
    return b"".join(parts)


def _repository(name: str):
    repository = selectors.repository_by_name(name)
    if repository is None:
        raise OCIError("NAME_UNKNOWN", detail={"name": name})
    return repository


def _digest(value: str, code: str = "DIGEST_INVALID") -> str:
    try:
        parse_digest(value)
    except InvalidDigest as exc:
        raise OCIError(code, detail=str(exc)) from None
    return value


def _push_repository(request, name: str):
    caller = request.registry_caller
    # perf: an existing repository needs neither name resolution nor the user row (one statement
    # with the token's currency check, not four); its other fields load if a caller reads them
    repository_id = caller.require_push(name)
    if repository_id is not None:
        return Repository.from_db(connection.alias, ["id", "name"], [repository_id, name])
    resolved = resolve_name(name)
    if resolved.space is None:
        raise OCIError("NAME_UNKNOWN", detail={"name": name})
    return services.repository_get_or_create(resolved=resolved, user=caller.user)


def _range_header(offset: int) -> str:
    return f"0-{max(offset - 1, 0)}"


# --- base and catalog -----------------------------------------------------------------------


@registry_view("GET", "HEAD")
def base(request):
    caller = request.registry_caller
    if not caller.has_credentials and caller.token_access is None:
        raise OCIError("UNAUTHORIZED", headers={"WWW-Authenticate": challenge()})
    return _json({})


@registry_view("GET")
def catalog(request):
    caller = request.registry_caller
    if not caller.allowed("registry", "catalog", "*"):
        if not caller.has_credentials:
            raise OCIError("UNAUTHORIZED", headers={"WWW-Authenticate": challenge("registry:catalog:*")})
        raise OCIError("DENIED")
    limit = _page_size(request)
    last = request.GET.get("last")
    # One prepared statement (perf: docs/performance.md); limit + 1 names tell whether there is a next page.
    names = statements.catalog_names(caller.user, last=last, limit=limit + 1 if limit is not None else None)
    response = _json({"repositories": names[:limit] if limit is not None else names})
    if limit is not None and len(names) > limit:
        response["Link"] = f'</v2/_catalog?{urlencode({"n": limit, "last": names[limit - 1]})}>; rel="next"'
    return response


# The most entries one page of tags or the catalog holds: a larger `n` is served this many and a Link
# to the rest, as the spec allows (it would otherwise reach the database as an out-of-range LIMIT).
MAX_PAGE_ENTRIES = 10_000


def _page_size(request) -> int | None:
    value = request.GET.get("n")
    if value in (None, ""):
        return None
    if not (value.isascii() and value.isdigit()):  # str.isdigit alone admits "²", which int() refuses
        raise OCIError("UNSUPPORTED", "n must be a non-negative integer", status=400)
    return min(int(value), MAX_PAGE_ENTRIES) if len(value) <= 9 else MAX_PAGE_ENTRIES


# --- tags and referrers ---------------------------------------------------------------------


@registry_view("GET")
def tags_list(request, name: str):
    request.registry_caller.require(name, PULL)
    limit = _page_size(request)
    # One statement, the repository's existence included, whose answer holds the page as JSON
    # already (perf: docs/performance.md).
    page = statements.tag_page(name, last=request.GET.get("last"), limit=limit)
    if page is None:
        raise OCIError("NAME_UNKNOWN", detail={"name": name})
    names_json, next_last = page
    response = HttpResponse(f'{{"name": {json.dumps(name)}, "tags": {names_json}}}', content_type="application/json")
    if next_last is not None:
        response["Link"] = f'</v2/{name}/tags/list?{urlencode({"n": limit, "last": next_last})}>; rel="next"'
    return response


@registry_view("GET")
def referrers(request, name: str, digest: str):
    request.registry_caller.require(name, PULL)
    _digest(digest)
    # A registry that supports referrers MUST NOT answer 404 here: a repository not created yet
    # (by its first push) has no referrers, like one without them; the caller may pull there.
    repository = selectors.repository_by_name(name)
    artifact_type = request.GET.get("artifactType")
    descriptors = []
    found = selectors.referrers(repository, digest, artifact_type=artifact_type) if repository is not None else ()
    for manifest in found:
        descriptor = {"mediaType": manifest.media_type, "digest": manifest.digest, "size": manifest.size}
        if manifest.artifact_type:
            descriptor["artifactType"] = manifest.artifact_type
        if manifest.annotations:
            descriptor["annotations"] = manifest.annotations
        descriptors.append(descriptor)
    response = _json({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors}, content_type=OCI_INDEX)
    if artifact_type:
        response["OCI-Filters-Applied"] = "artifactType"
    return response


# --- manifests ------------------------------------------------------------------------------


@registry_view("GET", "HEAD", "PUT", "DELETE")
def manifest(request, name: str, reference: str):
    caller = request.registry_caller
    if request.method == "PUT":
        repository = _push_repository(request, name)
        body = _read_limited(request, MAX_MANIFEST_BYTES)
        stored = services.manifest_put(
            repository=repository, reference=reference, content_type=request.META.get("CONTENT_TYPE", ""),
            body=body, user_id=caller.user_id,
        )
        headers = {"Location": f"/v2/{name}/manifests/{stored.digest}", "Docker-Content-Digest": stored.digest}
        if stored.subject_digest:
            headers["OCI-Subject"] = stored.subject_digest
        return _headers_response(201, headers)
    if request.method == "DELETE":
        caller.require(name, DELETE)
        services.manifest_delete(repository=_repository(name), reference=reference)
        return _empty(202)
    caller.require(name, PULL)
    digest, media_type = _manifest_for_pull(name, reference)
    body = _manifest_bytes(digest)
    response = HttpResponse(b"" if request.method == "HEAD" else body, content_type=media_type)
    response["Content-Length"] = str(len(body))
    response["Docker-Content-Digest"] = digest
    return response


# Bytes of recently pulled manifests by digest: content-addressed, so an entry can never go stale,
# and served only after the database said the manifest is in the repository (perf: spares a file
# open and read per manifest GET). Bounded in bytes, the least recently pulled going first.
_MANIFEST_CACHE_BYTES = 16 * 1024 * 1024


@cached(LRUCache(maxsize=_MANIFEST_CACHE_BYTES, getsizeof=len), lock=threading.Lock())
def _manifest_bytes(digest: str) -> bytes:
    with get_blob_store().open(digest) as handle:
        return handle.read()


def _manifest_for_pull(name: str, reference: str) -> tuple[str, str]:
    """(digest, media type) of a manifest by tag or digest, in one query (perf: manifest GET/HEAD
    is the hottest registry read; see docs/performance.md). Only a miss asks whether the
    repository exists, to answer NAME_UNKNOWN rather than MANIFEST_UNKNOWN."""
    if is_digest(reference):
        found = statements.manifest_by_digest(name, reference)
    else:
        found = statements.manifest_by_tag(name, reference)
    if found:
        return found
    _repository(name)
    raise OCIError("MANIFEST_UNKNOWN", detail={"reference": reference})


# --- blobs ----------------------------------------------------------------------------------


@registry_view("GET", "HEAD", "DELETE")
def blob(request, name: str, digest: str):
    caller = request.registry_caller
    if request.method == "DELETE":
        caller.require(name, DELETE)
        repository = _repository(name)
        _digest(digest)
        if not links.blob_unlink(repository=repository, digest=digest):
            raise OCIError("BLOB_UNKNOWN", detail={"digest": digest})
        return _empty(202)
    caller.require(name, PULL)
    _digest(digest)
    # One query for the blob of the named repository, hit or miss (perf: docker HEADs every layer
    # it pushes, mostly missing, and GETs every layer it pulls).
    exists, found = selectors.registry_blob(name, digest)
    if found is None:
        if not exists:
            raise OCIError("NAME_UNKNOWN", detail={"name": name})
        raise OCIError("BLOB_UNKNOWN", detail={"digest": digest})
    headers = {"Docker-Content-Digest": digest, "Accept-Ranges": "bytes"}
    if request.method == "HEAD":
        # A pusher told "exists" skips the upload: restart the blob's GC grace until its manifest arrives.
        if not links.blob_touch(blob=found):
            raise OCIError("BLOB_UNKNOWN", detail={"digest": digest})
        return _head(found.size, headers)
    try:
        response = blob_response(request, digest=digest, size=found.size, content_type="application/octet-stream")
    except http_ranges.RangeNotSatisfiable as exc:
        raise OCIError(
            "RANGE_INVALID", detail={"range": request.META.get("HTTP_RANGE")}, headers={"Content-Range": exc.content_range}
        ) from None
    except BlobMissing:  # the row outlived its file: unknown content, which the client can push again
        raise OCIError("BLOB_UNKNOWN", detail={"digest": digest}) from None
    response["Docker-Content-Digest"] = digest
    return response


def _head(size: int, headers: dict) -> HttpResponse:
    response = HttpResponse(b"", content_type="application/octet-stream")
    for key, value in headers.items():
        response[key] = value
    response["Content-Length"] = str(size)
    return response


# --- uploads --------------------------------------------------------------------------------


def _upload_headers(name: str, session: UploadSession) -> dict:
    return {
        "Location": f"/v2/{name}/blobs/uploads/{session.pk}",
        "Range": _range_header(session.offset),
        "Docker-Upload-UUID": str(session.pk),
    }


def _pending_headers(name: str, ref: uploads.SessionRef) -> dict:
    """A session a POST started that has stored nothing yet: its signed URL, at offset 0."""
    return {
        "Location": f"/v2/{name}/blobs/uploads/{ref.segment}",
        "Range": _range_header(0),
        "Docker-Upload-UUID": str(ref.session_id),
    }


def _blob_created(name: str, digest: str) -> HttpResponse:
    response = _empty(201)
    response["Location"] = f"/v2/{name}/blobs/{digest}"
    response["Docker-Content-Digest"] = digest
    return response


def _headers_response(status: int, headers: dict) -> HttpResponse:
    response = _empty(status)
    for key, value in headers.items():
        response[key] = value
    return response


@registry_view("POST")
def upload_start(request, name: str):
    caller = request.registry_caller
    repository = _push_repository(request, name)
    mount, source_name = request.GET.get("mount"), request.GET.get("from")
    if mount and source_name:
        _digest(mount)
        try:
            validate_name(source_name)
            may_pull = caller.may_mount_from(source_name, target=name)
        except InvalidName:
            may_pull = False
        source = selectors.repository_by_name(source_name) if may_pull else None
        if source is not None and links.blob_mount(repository=repository, source=source, digest=mount):
            return _blob_created(name, mount)
    digest = request.GET.get("digest")
    if digest:
        # perf: a monolithic upload needs no session row (see uploads.blob_upload)
        _digest(digest)
        uploads.blob_upload(repository=repository, chunks=iter_body(request), digest=digest)
        return _blob_created(name, digest)
    # perf: the session is pending, nothing is written (see uploads.PENDING_PURPOSE)
    return _headers_response(202, _pending_headers(name, uploads.upload_session_start(repository_name=name)))


def _session(name: str, session_id: str, found: UploadSession | None) -> UploadSession:
    """The upload session looked up (in one statement: perf, every PATCH/PUT of a push looks it
    up); only a miss asks whether the repository exists."""
    if found is None:
        _repository(name)
        raise OCIError("BLOB_UPLOAD_UNKNOWN", detail={"session": session_id})
    return found


def _chunk_start(request) -> int | None:
    value = request.META.get("HTTP_CONTENT_RANGE")
    if not value:
        return None
    match = _CONTENT_RANGE_RE.match(value.strip())
    if not match:
        raise OCIError("RANGE_INVALID", detail={"Content-Range": value})
    return int(match[1])


def _upload_ref(request, name: str, session_id: str) -> tuple[uploads.SessionRef, Repository | None]:
    """The session an upload URL names, once the caller may push there; with its repository when
    the URL is a POST's signed one (the session may have no row yet: its row, or its blob, needs
    the repository id). BLOB_UPLOAD_UNKNOWN for a segment that is no session id."""
    caller = request.registry_caller
    ref = uploads.upload_session_ref(repository_name=name, segment=session_id)
    if ref is None or not ref.pending:
        caller.require(name, PUSH, scope_actions="pull,push")
        if ref is None:
            _repository(name)
            raise OCIError("BLOB_UPLOAD_UNKNOWN", detail={"session": session_id})
        return ref, None
    repository_id = caller.require_push(name)  # perf: the currency check and the repository in one statement
    if repository_id is None:
        raise OCIError("NAME_UNKNOWN", detail={"name": name})
    return ref, Repository.from_db(connection.alias, ["id", "name"], [repository_id, name])


@registry_view("GET", "PATCH", "PUT", "DELETE")
def upload_session(request, name: str, session_id: str):
    ref, repository = _upload_ref(request, name, session_id)
    if request.method == "GET":
        found = statements.upload_session(name, ref.session_id)
        if found is None and repository is not None:
            return _headers_response(204, _pending_headers(name, ref))
        return _headers_response(204, _upload_headers(name, _session(name, session_id, found)))
    if repository is not None and request.method == "PUT" and statements.upload_session(name, ref.session_id) is None:
        # perf: a pending session finished by one PUT: no row, no writer lock (the body goes to an
        # upload file of its own, uploads.blob_upload)
        return _put_pending(request, name, ref, repository)
    try:
        # One writer at a time: a request that finds another writing gets 416 and the saved Range.
        with uploads.upload_session_claimed(repository_name=name, session_id=ref.session_id) as found:
            if found is None and repository is not None:
                if request.method == "DELETE":  # nothing was stored
                    return _empty(204)
                if request.method == "PUT":  # the row went (its upload ended) since the check above
                    return _put_pending(request, name, ref, repository)
                found = uploads.upload_session_create(
                    repository_id=repository.pk, repository_name=name, session_id=ref.session_id,
                    user_id=request.registry_caller.user_id,
                )
            session = _session(name, session_id, found)
            return _write_upload(request, name, session)
    except UploadInUse as exc:
        raise OCIError("RANGE_INVALID", str(exc), headers=_upload_headers(name, exc.session)) from None


def _put_pending(request, name: str, ref: uploads.SessionRef, repository: Repository) -> HttpResponse:
    """PUT ?digest= on a pending session: the whole blob in this request, as a monolithic POST."""
    digest = request.GET.get("digest")
    if not digest:
        raise OCIError("DIGEST_INVALID", "the digest parameter is required to complete an upload", headers=_pending_headers(name, ref))
    if _chunk_start(request) not in (None, 0):
        raise OCIError("RANGE_INVALID", "the upload is at 0", headers=_pending_headers(name, ref))
    _digest(digest)
    uploads.blob_upload(repository=repository, chunks=iter_body(request), digest=digest)
    return _blob_created(name, digest)


def _write_upload(request, name: str, session: UploadSession):
    if request.method == "DELETE":
        uploads.upload_session_cancel(session=session)
        return _empty(204)
    digest = request.GET.get("digest") if request.method == "PUT" else None
    try:
        start = _chunk_start(request)
        if digest:
            # perf: the last chunk and the commit without saving the offset in between
            uploads.upload_session_finish(session=session, chunks=iter_body(request), digest=digest, start=start)
            return _blob_created(name, digest)
        session = uploads.upload_session_append(session=session, chunks=iter_body(request), start=start)
    except UploadInUse:
        raise
    except RangeMismatch as exc:
        headers = _upload_headers(name, session)
        raise OCIError("RANGE_INVALID", str(exc), headers=headers) from None
    except OCIError as exc:
        exc.headers.update(_upload_headers(name, session))
        raise
    if request.method == "PATCH":
        return _headers_response(202, _upload_headers(name, session))
    raise OCIError("DIGEST_INVALID", "the digest parameter is required to complete an upload")
