"""One check of RFC 9110 Range handling, run against every download face (registry blobs, model
and resource files, Helm packages) with that face's own way of fetching."""
from collections.abc import Callable

# fetch(method, headers) -> (status, headers, body)
Fetch = Callable[[str, dict], tuple[int, dict, bytes]]


def assert_ranges_per_rfc9110(fetch: Fetch, data: bytes, *, error_body_key: str) -> None:
    """`data` (at least 1,000 bytes) is what the URL serves; `error_body_key` is a key the face's
    JSON error envelope always has (`errors` on /v2/ registry routes, `requestStatus`, `error`)."""
    size = len(data)
    assert size >= 1000

    def get(headers: dict) -> tuple[int, dict, bytes]:
        status, got_headers, body = fetch("GET", headers)
        return status, {key.lower(): value for key, value in got_headers.items()}, body

    status, headers, body = get({})
    assert (status, body) == (200, data)
    assert headers["accept-ranges"] == "bytes" and headers["content-length"] == str(size)
    etag = headers["etag"]

    for spec, start, end in [("bytes=10-19", 10, 19), ("bytes=-500", size - 500, size - 1), ("bytes=500-", 500, size - 1),
                             (f"bytes=0-{size * 10}", 0, size - 1), ("bytes=-99999999", 0, size - 1)]:
        status, headers, body = get({"Range": spec})
        assert status == 206, (spec, status, body[:200])
        assert body == data[start:end + 1], spec
        assert headers["content-range"] == f"bytes {start}-{end}/{size}", spec
        assert headers["content-length"] == str(end - start + 1), spec

    # Served whole: several ranges (RFC 9110 lets a server ignore Range), unknown units, invalid
    # sets, and an If-Range naming anything but the current representation.
    for headers_sent in [{"Range": "bytes=0-9,20-29"}, {"Range": "items=0-9"}, {"Range": "bytes=9-0"},
                         {"Range": "bytes=0-9", "If-Range": '"sha256:other"'},
                         {"Range": "bytes=0-9", "If-Range": "Wed, 21 Oct 2015 07:28:00 GMT"}]:
        status, headers, body = get(headers_sent)
        assert (status, body) == (200, data), headers_sent
        assert "content-range" not in headers, headers_sent
    status, _, body = get({"Range": "bytes=0-9", "If-Range": etag})
    assert (status, body) == (206, data[:10])

    for spec in (f"bytes={size}-", "bytes=-0", f"bytes={size + 5}-{size + 10},{size * 2}-"):
        status, headers, body = get({"Range": spec})
        assert status == 416, (spec, status)
        assert headers["content-range"] == f"bytes */{size}", spec
        assert headers["content-type"].startswith("application/json") and error_body_key.encode() in body, spec

    # HEAD: the whole representation's headers, no body, Range ignored (it is defined for GET only).
    status, headers, body = fetch("HEAD", {"Range": "bytes=-500"})
    assert (status, body) == (200, b"")
    assert headers.get("Content-Length", headers.get("content-length")) == str(size)
