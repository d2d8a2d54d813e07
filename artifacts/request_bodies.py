"""Request bodies read in fixed-size pieces into the caller's buffer (`readinto`), never whole.

Uploads (registry blobs, model/resource file parts) read `wsgi.input` themselves: clients push
with Transfer-Encoding: chunked, which Django's request.read() does not handle, and under
gunicorn a body of known length is read straight from the socket (GunicornSocketBody), which
costs about half the CPU of gunicorn's own body reader (docs/performance.md).
"""
import io

from registry_portal.errors import InvalidInput


class StreamBody:
    """The body through `wsgi.input.read(n)` (any WSGI server; chunked bodies, which gunicorn
    de-chunks), `length` bytes or to its end when None; never read whole."""

    def __init__(self, stream, length: int | None):
        self._stream, self._left = stream, length

    def readinto(self, view) -> int:
        want = len(view) if self._left is None else min(len(view), self._left)
        if want <= 0:
            return 0
        data = self._stream.read(want)
        view[: len(data)] = data
        if self._left is not None:
            self._left -= len(data)
        return len(data)


class GunicornSocketBody:
    """A body of known length read straight from gunicorn's socket with `recv_into` into the
    caller's buffer: none of the recv steps and BytesIO copies of gunicorn's body reader. Bytes
    gunicorn already buffered (read with the headers) come first. gunicorn's reader keeps counting
    what is left (`reader.length`), and `release()` hands back buffered bytes not consumed, so if
    the view stops early gunicorn still discards exactly the rest of the body (keep-alive stays
    in step)."""

    def __init__(self, body, sock):
        self._reader, self._sock = body.reader, sock
        self._held: memoryview | None = None  # taken on the first read

    @classmethod
    def for_request(cls, request, length: int | None):
        environ = request.META
        body, sock = environ.get("wsgi.input"), environ.get("gunicorn.socket")
        reader = getattr(body, "reader", None)
        unreader = getattr(reader, "unreader", None)
        if (
            length is None or sock is None or type(reader).__name__ != "LengthReader"
            or getattr(reader, "length", None) != length or not hasattr(unreader, "take_buffered")
            or not isinstance(getattr(body, "buf", None), io.BytesIO) or body.buf.getbuffer().nbytes
        ):
            return None
        return cls(body, sock)

    def readinto(self, view) -> int:
        reader = self._reader
        if self._held is None:
            held = reader.unreader.take_buffered()
            if len(held) > reader.length:  # the next request, pipelined behind this one
                reader.unreader.unread(held[reader.length:])
                held = held[: reader.length]
            self._held = memoryview(held)
        if self._held:
            n = min(len(view), len(self._held))
            view[:n] = self._held[:n]
            self._held = self._held[n:]
        else:
            want = min(len(view), reader.length)
            if want <= 0:
                return 0
            with view[:want] as target:
                n = self._sock.recv_into(target)
        reader.length -= n
        return n

    def release(self) -> None:
        if self._held:
            self._reader.unreader.unread(bytes(self._held))
        self._held = memoryview(b"")


def request_body(request):
    """A reader of the body (`readinto`), with or without Content-Length; never read whole."""
    length = content_length(request)
    direct = GunicornSocketBody.for_request(request, length)
    if direct is not None:
        return direct
    stream = request.META["wsgi.input"]
    if length is not None:
        return StreamBody(stream, length)
    if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
        return StreamBody(stream, None)
    return StreamBody(stream, 0)


def content_length(request) -> int | None:
    value = request.META.get("CONTENT_LENGTH")
    if value in (None, ""):
        return None
    if not value.isdigit():
        raise InvalidInput("Content-Length must be a whole number.")
    return int(value)


