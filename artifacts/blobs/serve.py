"""A stored blob as an HTTP download, for every face that serves one (OCI blob GET, NGC file
download, Helm .tgz, logos): Range and the file window are registry_portal.http_ranges'; each face
answers `RangeNotSatisfiable` (416) and `BlobMissing` (404) in its own error format."""
from django.http import HttpResponse

from artifacts.blobs.store import get_blob_store
from registry_portal import http_ranges


class BlobMissing(Exception):
    """The blob's row is there but storage has no file for it (lost storage, a manual deletion):
    the client is told the content is unknown (404), not that the server failed."""


def blob_response(
    request, *, digest: str, size: int, content_type: str, filename: str | None = None
) -> HttpResponse:
    """The blob's bytes (200, or 206 for a Range), streamed; `digest` is the strong ETag.
    Raises http_ranges.RangeNotSatisfiable and BlobMissing."""
    store = get_blob_store()
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
