"""The chunked-body reader over gunicorn's socket, fed by a socket that hands out the bytes in
pieces cut anywhere (a size line, a CRLF or a trailer split across reads), with gunicorn's own
request body objects around it: what it yields must be exactly the data, and gunicorn must find
the connection where the body ends (a pipelined request intact) or closed after a broken body."""
import pytest
from gunicorn.http.body import Body, ChunkedReader
from gunicorn.http.unreader import SocketUnreader

from artifacts.request_bodies import MAX_SIZE_LINE, GunicornChunkedBody, MalformedBody, request_body

FRAMED = (
    b"3;name=value\r\nabc\r\n"
    b"A; a = \"quoted;\\\"x\" ;flag\r\n0123456789\r\n"
    b"1\r\nZ\r\n"
    b"0\r\nX-Checksum: 12\r\nX-Other:\r\n\r\n"
)
DATA = b"abc0123456789Z"
NEXT_REQUEST = b"GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n"


class PiecewiseSocket:
    """Hands out `data` cut at `cuts`: each recv returns at most up to the next cut."""

    def __init__(self, data: bytes, cuts=()):
        self.data, self.pos = data, 0
        self.cuts = sorted(set(cuts) | {len(data)})

    def _next_piece(self, size: int) -> bytes:
        stop = min(next(c for c in self.cuts if c > self.pos) if self.pos < len(self.data) else self.pos, self.pos + size)
        piece, self.pos = self.data[self.pos:stop], stop
        return piece

    def recv_into(self, view) -> int:
        piece = self._next_piece(len(view))
        view[:len(piece)] = piece
        return len(piece)

    def recv(self, size: int) -> bytes:
        return self._next_piece(size)


class Request:
    """What request_body reads of a Django request: its environ, as gunicorn builds it."""

    def __init__(self, sock, buffered: bytes = b""):
        self.unreader = SocketUnreader(sock)  # gunicorn's request: the connection's unreader
        self.unreader.unread(buffered)  # read with the headers
        self.gunicorn_body = Body(ChunkedReader(self, self.unreader))
        self.META = {"wsgi.input": self.gunicorn_body, "gunicorn.socket": sock, "HTTP_TRANSFER_ENCODING": "chunked"}


def read_all(body, buffer_size: int) -> bytes:
    view, out = memoryview(bytearray(buffer_size)), bytearray()
    while n := body.readinto(view):
        out += view[:n]
    body.release()
    return bytes(out)


def test_a_chunked_body_is_read_by_the_socket_reader_under_gunicorn():
    request = Request(PiecewiseSocket(FRAMED))
    assert isinstance(request_body(request), GunicornChunkedBody)


@pytest.mark.parametrize("buffer_size", [1, 5, 1024 * 1024])
def test_the_data_comes_out_whole_wherever_the_reads_split_the_framing(buffer_size):
    wire = FRAMED + NEXT_REQUEST
    for cut in range(len(wire) + 1):
        for buffered in (0, min(cut, 4)):  # with and without bytes gunicorn read along with the headers
            request = Request(PiecewiseSocket(wire[buffered:], cuts=[cut - buffered]), buffered=wire[:buffered])
            body = request_body(request)
            assert read_all(body, buffer_size) == DATA, (cut, buffered)
            # gunicorn sees the body over and reads the next request from where it starts
            assert request.gunicorn_body.read(1024) == b"" and not request.gunicorn_body.failed
            assert request.unreader.read(len(NEXT_REQUEST)) == NEXT_REQUEST


def test_the_data_comes_out_whole_when_each_read_brings_one_byte():
    sock = PiecewiseSocket(FRAMED, cuts=range(len(FRAMED)))
    assert read_all(request_body(Request(sock)), 7) == DATA


def test_large_frames_come_out_whole_from_large_reads():
    frames = [bytes([i]) * size for i, size in enumerate([32 * 1024, 1, 65539, 32 * 1024, 4097])]
    wire = b"".join(b"%x\r\n%s\r\n" % (len(f), f) for f in frames) + b"0\r\n\r\n"
    sock = PiecewiseSocket(wire, cuts=range(0, len(wire), 50000))
    assert read_all(request_body(Request(sock)), 1024 * 1024) == b"".join(frames)


@pytest.mark.parametrize("wire", [
    b"zz\r\nabc\r\n0\r\n\r\n",                      # not a hexadecimal size
    b"\r\nabc\r\n0\r\n\r\n",                        # no size at all
    b"3\r\nabcXY0\r\n\r\n",                         # data longer than its size says
    b"3\nabc\r\n0\r\n\r\n",                         # a bare LF ends the size line
    b"3\rx\r\nabc\r\n0\r\n\r\n",                    # a bare CR in it
    b"3;=x\r\nabc\r\n0\r\n\r\n",                    # an extension without a name
    b"3;a=\"open\r\nabc\r\n0\r\n\r\n",              # an unterminated quoted extension value
    b"1" * 17 + b"\r\n",                            # a size of more than 16 hex digits
    b"3\r\nabc\r\n0\r\nno colon here\r\n\r\n",      # a malformed trailer
    b"3\r\nabc\r\n0\r\nX-A: 1\n\r\n",               # a trailer ended by a bare LF
])
def test_broken_framing_is_refused_and_the_connection_closes(wire):
    request = Request(PiecewiseSocket(wire, cuts=range(len(wire))))
    with pytest.raises(MalformedBody):
        read_all(request_body(request), 64)
    assert request.gunicorn_body.failed  # gunicorn closes rather than look for a next request


def test_an_endless_size_line_is_refused_after_a_bounded_read():
    sock = PiecewiseSocket(b"0" * (10 * MAX_SIZE_LINE), cuts=range(0, 10 * MAX_SIZE_LINE, 100))
    with pytest.raises(MalformedBody):
        read_all(request_body(Request(sock)), 64)
    assert sock.pos <= MAX_SIZE_LINE + 100


def test_a_body_cut_off_keeps_what_arrived_and_closes_the_connection():
    wire = b"5\r\nhello\r\n5\r\nwor"
    request = Request(PiecewiseSocket(wire))
    assert read_all(request_body(request), 64) == b"hellowor"
    assert request.gunicorn_body.failed


def test_a_body_not_read_to_its_end_closes_the_connection():
    request = Request(PiecewiseSocket(b"5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", cuts=[10]))
    body = request_body(request)
    body.readinto(memoryview(bytearray(64)))
    body.release()
    assert request.gunicorn_body.failed


def test_data_before_broken_framing_comes_out_before_the_error():
    request = Request(PiecewiseSocket(b"5\r\nhello\r\nzz\r\n"))
    body, view = request_body(request), memoryview(bytearray(64))
    assert view[:body.readinto(view)] == b"hello"
    with pytest.raises(MalformedBody):
        body.readinto(view)
