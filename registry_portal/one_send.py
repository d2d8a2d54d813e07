"""Small responses under gunicorn sent with their headers in one `send`.

gunicorn sends a response's head, then each body write, each with its own `sendall`; the listener
has TCP_NODELAY, so a manifest GET answered with a 2 KiB body goes out as two TCP segments, two
syscalls here and two wake-ups of the client. When the application hands over its whole body in
one write (Django's HttpResponse does, with Content-Length set) and the body is small, this sends
head and body together. The head is gunicorn's own, built by its `send_headers`; anything else
(chunked, streamed, larger, HEAD and other bodiless responses, a short or long write) goes through
gunicorn's `write` unchanged, and so does any subclass of gunicorn's Response (HTTP/2's frames its
body its own way).
"""
from registry_portal.gunicorn_response import replace_method

SMALL_BODY_BYTES = 64 * 1024


class _HeadCollector:
    """Stands in for the socket while gunicorn's send_headers writes the head into `parts`."""

    def __init__(self):
        self.parts: list[bytes] = []

    def sendall(self, data: bytes) -> None:
        self.parts.append(bytes(data))


def install() -> None:
    replace_method("write", "sends_head_with_body", _head_with_body_write)


def _head_with_body_write(response_class: type, original):
    def write(self, arg) -> None:
        if (
            type(self) is not response_class or self.headers_sent or self.chunked or self._omits_body
            or not isinstance(arg, bytes) or self.response_length != len(arg) or not 0 < len(arg) <= SMALL_BODY_BYTES
        ):
            original(self, arg)
            return
        sock, collector = self.sock, _HeadCollector()
        self.sock = collector
        try:
            self.send_headers()
        finally:
            self.sock = sock
        sock.sendall(b"".join(collector.parts) + arg)
        self.sent += len(arg)

    return write
