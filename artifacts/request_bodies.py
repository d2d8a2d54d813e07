"""Request bodies read in fixed-size pieces into the caller's buffer (`readinto`), never whole.

Uploads (registry blobs, model/resource file parts) read `wsgi.input` themselves: clients push
with Transfer-Encoding: chunked, which Django's request.read() does not handle, and under
gunicorn a body of known length is read straight from the socket (GunicornSocketBody), which
costs about half the CPU of gunicorn's own body reader (docs/performance.md); so is a chunked
body, de-chunked in place in the caller's buffer (GunicornChunkedBody).
"""
import inspect
import io
import re

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

    def release(self) -> None:
        pass


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


class MalformedBody(InvalidInput):
    """A chunked request body whose framing is broken (RFC 9112 section 7.1)."""


# RFC 9112 section 7.1.1 chunk extensions (`;name`, `;name=token`, `;name="quoted"`) and
# RFC 9110 section 5.6.2 field lines, for the trailer section after the last chunk.
_TOKEN = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED = rb'"(?:[\t !#-\[\]-~\x80-\xff]|\\[\t -~\x80-\xff])*"'
_CHUNK_EXTENSIONS = re.compile(rb"(?:[ \t]*;[ \t]*" + _TOKEN + rb"(?:[ \t]*=[ \t]*(?:" + _TOKEN + rb"|" + _QUOTED + rb"))?)*")
_TRAILER_LINE = re.compile(_TOKEN + rb":[^\r\n]*\r\n")
_HEX_DIGITS = frozenset(b"0123456789abcdefABCDEF")
_LF = re.compile(rb"\n")
# Bounds, so a peer cannot make the server hold or scan without end: a size line (digits and
# extensions) is a header field's length at most (gunicorn's limit_request_field_size), the
# trailer section a header block's, and a chunk size at most 16 hex digits.
MAX_SIZE_LINE = 8190
MAX_TRAILER_SECTION = 64 * 1024
MAX_SIZE_DIGITS = 16

_SIZE, _DATA, _DATA_END, _TRAILER, _DONE = range(5)


class Dechunker:
    """The chunked framing of a body, undone in place: `feed` takes raw bytes at view[pos:end],
    moves the data bytes down to view[out:] (one memmove per frame; frame and size lines may be
    split anywhere between feeds) and keeps only an unfinished size or trailer line (bounded)."""

    def __init__(self):
        self.state, self.left, self.line, self.trailer_bytes = _SIZE, 0, bytearray(), 0
        self.broken: MalformedBody | None = None  # found after data in the same feed: raised on the next

    @property
    def done(self) -> bool:
        return self.state == _DONE

    def feed(self, view, out: int, pos: int, end: int) -> tuple[int, int]:
        """Returns (out, pos): data now ends at view[out]; raw bytes are consumed up to pos,
        which is short of `end` only once the body is done (what follows is the next request).
        Data before broken framing comes out first (kept for a resume), the error on the next feed."""
        if self.broken:
            raise self.broken
        start = out
        while pos < end and self.state != _DONE:
            if self.state == _DATA:
                take = min(self.left, end - pos)
                if out != pos:
                    view[out:out + take] = view[pos:pos + take]
                out, pos, self.left = out + take, pos + take, self.left - take
                if not self.left:
                    self.state = _DATA_END
                continue
            try:
                pos = self._take_frame_end(view, pos, end) if self.state == _DATA_END else self._take_line(view, pos, end)
            except MalformedBody as exc:
                if out == start:
                    raise
                self.broken = exc
                return out, end
        return out, pos

    def _take_frame_end(self, view, pos: int, end: int) -> int:
        if not self.line and end - pos >= 2:
            ending, pos = view[pos:pos + 2], pos + 2
        else:  # the CRLF split across reads
            self.line += view[pos:pos + 1]
            if len(self.line) < 2:
                return pos + 1
            ending, pos, self.line = bytes(self.line), pos + 1, bytearray()
        if ending != b"\r\n":
            raise MalformedBody("A chunk of the body does not end with CRLF where its size says.")
        self.state = _SIZE
        return pos

    def _take_line(self, view, pos: int, end: int) -> int:
        limit = MAX_SIZE_LINE if self.state == _SIZE else MAX_TRAILER_SECTION - self.trailer_bytes
        found = _LF.search(view, pos, min(end, pos + limit + 1 - len(self.line)))
        stop = found.end() if found else min(end, pos + limit + 1 - len(self.line))
        self.line += view[pos:stop]
        if not found:
            if len(self.line) > limit:
                raise MalformedBody("A chunk size line or the trailer section of the body is too long.")
            return stop
        line, self.line = bytes(self.line), bytearray()
        if not line.endswith(b"\r\n") or b"\r" in line[:-2]:
            raise MalformedBody("A line of the chunked body does not end with CRLF.")
        if self.state == _SIZE:
            self.left = _chunk_size(line[:-2])
            self.state = _DATA if self.left else _TRAILER
        elif line == b"\r\n":
            self.state = _DONE
        elif _TRAILER_LINE.fullmatch(line):
            self.trailer_bytes += len(line)
        else:
            raise MalformedBody("A trailer field after the last chunk of the body is malformed.")
        return stop


def _chunk_size(line: bytes) -> int:
    digits, semicolon, extensions = line.partition(b";")
    if semicolon:
        digits = digits.rstrip(b" \t")
        if not _CHUNK_EXTENSIONS.fullmatch(b";" + extensions):
            raise MalformedBody("A chunk extension of the body is malformed.")
    if not digits or len(digits) > MAX_SIZE_DIGITS or not _HEX_DIGITS.issuperset(digits):
        raise MalformedBody("A chunk size of the body is not a hexadecimal number.")
    return int(digits, 16)


class GunicornChunkedBody:
    """A `Transfer-Encoding: chunked` body read straight from gunicorn's socket: large `recv_into`
    reads into the caller's buffer, de-chunked there in place (Dechunker), instead of gunicorn's
    reader (a generator step, a recv and BytesIO copies per frame). Bytes gunicorn already
    buffered come first; bytes past the body's end (a pipelined request) are handed back to
    gunicorn, and its own reader is told the body is over. A body left unfinished (malformed,
    cut off, or not read to its end) marks the request failed, so gunicorn closes the
    connection rather than look for the next request mid-body."""

    def __init__(self, body, sock):
        self._body, self._reader, self._sock = body, body.reader, sock
        self._unreader = body.reader.req.unreader  # the connection's (ChunkedReader keeps it in its parser only)
        self._held: memoryview | None = None  # taken on the first read
        self._framing = Dechunker()

    @classmethod
    def for_request(cls, request):
        environ = request.META
        body, sock = environ.get("wsgi.input"), environ.get("gunicorn.socket")
        reader = getattr(body, "reader", None)
        parser = getattr(reader, "parser", None)
        if (
            sock is None or type(reader).__name__ != "ChunkedReader"
            or not hasattr(getattr(getattr(reader, "req", None), "unreader", None), "take_buffered")
            or not inspect.isgenerator(parser) or inspect.getgeneratorstate(parser) != inspect.GEN_CREATED
            or not isinstance(getattr(body, "buf", None), io.BytesIO) or body.buf.getbuffer().nbytes
            or not isinstance(getattr(reader, "buf", None), io.BytesIO) or reader.buf.getbuffer().nbytes
        ):
            return None
        return cls(body, sock)

    def readinto(self, view) -> int:
        if self._held is None:
            self._held = memoryview(self._unreader.take_buffered())
        framing, out = self._framing, 0
        while not out and not framing.done:
            end = 0 if framing.broken else self._receive(view)
            if not end and not framing.broken:  # the client went away mid-body: what arrived is kept
                self._stop_gunicorn_reading()
                return 0
            try:
                out, pos = framing.feed(view, 0, 0, end)
            except MalformedBody:
                self._stop_gunicorn_reading()
                raise
            if framing.done:
                self._hand_back(bytes(view[pos:end]))
        return out

    def _receive(self, view) -> int:
        held = self._held
        if not held:
            return self._sock.recv_into(view)
        n = min(len(view), len(held))
        view[:n] = held[:n]
        self._held = held[n:]
        return n

    def _hand_back(self, surplus: bytes) -> None:
        rest = surplus + bytes(self._held or b"")
        self._held = memoryview(b"")
        self._reader.parser = None  # gunicorn's reader now answers b"": the body is over
        if rest:
            self._unreader.unread(rest)

    def release(self) -> None:
        if not self._framing.done:
            self._stop_gunicorn_reading()

    def _stop_gunicorn_reading(self) -> None:
        """Where the body ends is unknown: gunicorn must close the connection, not drain it."""
        self._body.failed, self._reader.parser = True, None


RequestBody = StreamBody | GunicornSocketBody | GunicornChunkedBody


def request_body(request) -> RequestBody:
    """A reader of the body (`readinto`, then `release()` even if it stopped early), with or without
    Content-Length; never read whole. Chunked framing that is broken raises MalformedBody."""
    length = content_length(request)
    direct = GunicornSocketBody.for_request(request, length)
    if direct is not None:
        return direct
    stream = request.META["wsgi.input"]
    if length is not None:
        return StreamBody(stream, length)
    if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
        return GunicornChunkedBody.for_request(request) or StreamBody(stream, None)
    return StreamBody(stream, 0)


def content_length(request) -> int | None:
    value = request.META.get("CONTENT_LENGTH")
    if value in (None, ""):
        return None
    if not value.isdigit():
        raise InvalidInput("Content-Length must be a whole number.")
    return int(value)


