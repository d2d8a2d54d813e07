"""A stored blob as an HTTP download, for every face that serves one (OCI blob GET, NGC file
download, Helm .tgz, logos): Range and the file window are registry_portal.http_ranges'; each face
answers `RangeNotSatisfiable` (416) and `BlobMissing` (404) in its own error format.

On an object store (S3) with settings.S3_REDIRECT_DOWNLOADS on, a GET is answered `307` to a
presigned GET of the one object, as distribution's S3 driver does: the bytes go from the bucket to
the client, never through the app, and the client sends its `Range` there. A HEAD is answered here
(a presigned GET URL does not sign a HEAD, and a HEAD needs no bytes), as is an empty blob.
"""
from django.conf import settings
from django.http import HttpResponse

from artifacts.blobs.store import BlobStore, get_blob_store
from registry_portal import http_ranges


class BlobMissing(Exception):
    """The blob's row is there but storage has no file for it (lost storage, a manual deletion):
    the client is told the content is unknown (404), not that the server failed."""


def _bypasses_app(store: BlobStore, size: int) -> bool:
    # An empty blob is served here: NVIDIA's client asks for it with `Range: bytes=0--1` and needs
    # 200 with no body, which an S3 server may answer otherwise (416); there are no bytes to spare.
    return store.redirects and settings.S3_REDIRECT_DOWNLOADS and size > 0


def _direct_download_url(
    *, digest: str, size: int, content_type: str, filename: str | None = None, store: BlobStore | None = None
) -> str | None:
    """A presigned storage URL for the blob's bytes when its downloads bypass the app (see the
    module's docstring), else None. It grants GET of that one object until it expires
    (settings.S3_PRESIGN_SECONDS); `content_type` and `filename` become the response's headers."""
    store = store or get_blob_store()
    if not _bypasses_app(store, size):
        return None
    return store.presigned_get(digest, content_type=content_type, filename=filename)


def blob_response(
    request, *, digest: str, size: int, content_type: str, filename: str | None = None, redirect: bool = True
) -> HttpResponse:
    """The blob's bytes (200, or 206 for a Range), streamed, `digest` as the strong ETag; or, for a
    GET when `redirect` and the store allow it, 307 to a presigned GET of the object.
    Raises http_ranges.RangeNotSatisfiable and BlobMissing."""
    store = get_blob_store()
    if request.method == "GET" and redirect:
        url = _direct_download_url(digest=digest, size=size, content_type=content_type, filename=filename, store=store)
        if url is not None:
            if store.stat(digest) is None:  # distribution stats before redirecting too: a lost object is this face's 404
                raise BlobMissing(f"blob {digest} has no object in storage")
            response = HttpResponse(status=307)
            response["Location"] = url
            return response
    if request.method == "HEAD" and store.stat(digest) is None:  # a HEAD opens nothing: it answers as a GET would
        raise BlobMissing(f"blob {digest} has no file in storage")

    def open_at(offset: int):
        try:
            return store.open(digest, offset=offset)
        except FileNotFoundError:
            raise BlobMissing(f"blob {digest} has no file in storage") from None

    return http_ranges.file_response(
        request, size=size, open_at=open_at, content_type=content_type, etag=f'"{digest}"', filename=filename,
    )
