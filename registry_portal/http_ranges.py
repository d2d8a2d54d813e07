"""HTTP Range requests (RFC 9110 §14) for every download: registry blobs, model and resource files,
Helm packages. Each face calls `file_response` and maps `RangeNotSatisfiable` to a 416 in its own
error format with `Content-Range: bytes */<size>`.

What a `Range` header gets:
- `bytes=500-999`, `bytes=500-` (open) and `bytes=-500` (the last 500 bytes): 206 with that window,
  clamped to the representation (a last position past the end means "to the end");
- several ranges (`bytes=0-9,20-29`): 200 with the whole body, which RFC 9110 allows (a server
  MAY ignore Range) and every client handles; a multipart/byteranges body is not produced;
- an unknown unit (`items=0-9`), a malformed or invalid set (`bytes=9-0`, `bytes=0--1`), a request
  other than GET, or an `If-Range` that does not name the current representation: ignored, 200;
- no satisfiable range (every first position at or past the end, or `bytes=-0`): RangeNotSatisfiable;
- an empty representation: ignored, 200 (no byte can be addressed, and NVIDIA's client asks for
  `bytes=0--1` there).
Bodies stream from an open file (FileResponse: gunicorn sends it from the file itself, see
registry_portal.mapped_send), never read whole.
"""
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from django.http import FileResponse, HttpResponse
from django.utils.http import content_disposition_header

# Digits are ASCII only (`\d` would take any Unicode digit). Positions longer than 18 digits are
# beyond any file and are read as "very large" rather than converted.
_INT_RANGE = re.compile(r"([0-9]+)-([0-9]*)")
_SUFFIX_RANGE = re.compile(r"-([0-9]+)")
_BEYOND_ANY_FILE = 10**18


def _position(digits: str) -> int:
    return int(digits) if len(digits) <= 18 else _BEYOND_ANY_FILE


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive
    size: int  # of the whole representation

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    @property
    def content_range(self) -> str:
        return f"bytes {self.start}-{self.end}/{self.size}"


class RangeNotSatisfiable(Exception):
    """None of the requested ranges overlaps the representation: answer 416 with `content_range`."""

    def __init__(self, size: int):
        super().__init__(f"the requested range is not satisfiable for {size} bytes")
        self.size = size

    @property
    def content_range(self) -> str:
        return f"bytes */{self.size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The one window to send for a `Range` header value, or None to send the whole representation.
    Raises RangeNotSatisfiable when the header is valid but no range overlaps `size` bytes."""
    if not header or size <= 0:
        return None
    unit, equals, specs = header.partition("=")
    if not equals or unit.strip().lower() != "bytes":
        return None  # an unknown unit is ignored
    windows: list[ByteRange | None] = []  # None: a valid range that is not satisfiable
    for spec in (item.strip() for item in specs.split(",")):
        if not spec:
            continue  # empty list elements are allowed (RFC 9110 §5.6.1)
        if match := _INT_RANGE.fullmatch(spec):
            start = _position(match[1])
            end = _position(match[2]) if match[2] else _BEYOND_ANY_FILE  # open: to the end
            if end < start:
                return None  # an invalid range makes the whole set invalid: ignored
            windows.append(ByteRange(start, min(end, size - 1), size) if start < size else None)
        elif match := _SUFFIX_RANGE.fullmatch(spec):
            suffix = _position(match[1])
            windows.append(ByteRange(max(size - suffix, 0), size - 1, size) if suffix > 0 else None)
        else:
            return None
    satisfiable = [window for window in windows if window is not None]
    if not windows:
        return None
    if not satisfiable:
        raise RangeNotSatisfiable(size)
    return satisfiable[0] if len(windows) == 1 else None  # several ranges: the whole body


def requested_range(request, size: int, *, etag: str | None = None) -> ByteRange | None:
    """`parse_range` of a request's `Range`, honoured only on GET and only when an `If-Range` (if
    any) names the current representation by its strong `etag` (dates never match: none is sent)."""
    if request.method != "GET":
        return None
    if_range = request.META.get("HTTP_IF_RANGE")
    if if_range is not None and (etag is None or if_range.strip() != etag):
        return None
    return parse_range(request.META.get("HTTP_RANGE"), size)


class FileWindow:
    """`length` bytes of an open file from its current position. Keeps `fileno` so gunicorn may
    send it from the file (bounded by Content-Length); other servers read it through `read`."""

    def __init__(self, handle: BinaryIO, length: int):
        self._handle, self._left = handle, length

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        size = self._left if size is None or size < 0 else min(size, self._left)
        data = self._handle.read(size)
        self._left -= len(data)
        return data

    def fileno(self) -> int:
        return self._handle.fileno()

    def close(self) -> None:
        self._handle.close()


def file_response(
    request, *, size: int, open_at: Callable[[int], BinaryIO], content_type: str,
    etag: str | None = None, filename: str | None = None,
) -> HttpResponse:
    """The whole representation (200) or the requested window (206) of a stored file, streamed;
    HEAD gets the headers of the whole without opening the file. `open_at(offset)` opens the file
    positioned at `offset`; `etag` is a strong validator (quoted) for `ETag` and `If-Range`.
    Raises RangeNotSatisfiable for the face to answer 416 in its own format."""
    window = requested_range(request, size, etag=etag)
    status = 206 if window else 200
    start, length = (window.start, window.length) if window else (0, size)
    attachment = {"as_attachment": True, "filename": filename} if filename else {}
    if request.method == "HEAD":
        response = HttpResponse(b"", content_type=content_type)
        if filename:
            response["Content-Disposition"] = content_disposition_header(True, filename)
    else:
        handle = open_at(start)
        body = handle if start + length == size else FileWindow(handle, length)
        response = FileResponse(body, status=status, content_type=content_type, **attachment)
    response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    if window:
        response["Content-Range"] = window.content_range
    if etag:
        response["ETag"] = etag
    return response
