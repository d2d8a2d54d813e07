"""Registry traffic against a live server: an API key's HTTP session, and a raw keep-alive TLS
connection written byte for byte (bodies that stop short or pause mid-way, which HTTP libraries
will not send)."""
import select
import socket
import ssl
from urllib.parse import urlsplit

from accounts import services as account_services
from tests.support.auth import basic_auth


def pusher(server, user):
    """An API key of `user`, and an HTTP session to `server` that sends it as `$oauthtoken`."""
    key = account_services.api_key_generate(user=user)
    http = server.session()
    http.auth = ("$oauthtoken", key)
    return key, http


class RawConnection:
    """One keep-alive TLS connection to the live server, written and read byte for byte (to send
    headers and body in one write, and bodies that stop short, which HTTP libraries will not do)."""

    def __init__(self, server, key: str, timeout: float = 20):
        parts = urlsplit(server.url)
        context = ssl.create_default_context(cafile=server.ca_bundle)
        self.sock = context.wrap_socket(socket.create_connection((parts.hostname, parts.port), timeout=timeout), server_hostname=parts.hostname)
        self.reader = self.sock.makefile("rb")
        self.auth = basic_auth(key)

    def request_bytes(
        self, method: str, path: str, body: bytes = b"", headers: dict | None = None, length: int | None = None,
        chunked: bool = False,
    ) -> bytes:
        """The request's bytes; `chunked`: Transfer-Encoding: chunked, `body` already framed."""
        framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {len(body) if length is None else length}"
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Authorization: {self.auth}", framing]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    def response(self, method: str = "GET") -> tuple[int, dict, bytes]:
        status = int(self.reader.readline().split()[1])
        headers = {}
        while (line := self.reader.readline().decode().strip()):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if method != "HEAD" and headers.get("transfer-encoding") == "chunked":
            return status, headers, self._chunked_body()
        length = 0 if method == "HEAD" else int(headers.get("content-length", 0))
        return status, headers, self.reader.read(length)

    def _chunked_body(self) -> bytes:
        body = b""
        while size := int(self.reader.readline().split(b";")[0], 16):
            body += self.reader.read(size)
            self.reader.readline()
        while self.reader.readline().strip():  # trailers
            pass
        return body

    def answered_within(self, seconds: float) -> bool:
        """Whether the server has started to answer within `seconds` (e.g. refused a request
        before reading its body)."""
        return bool(self.sock.pending()) or bool(select.select([self.sock], [], [], seconds)[0])

    def send_request(self, method: str, path: str, body: bytes, *, headers: dict | None = None, first: int = 64 * 1024):
        """Send the headers and the first `first` bytes of `body`; the rest only if the server
        has not answered within 3 s (a server that refuses early never reads it, and gunicorn
        closes a connection whose unread body exceeds 64 KiB)."""
        self.sock.sendall(self.request_bytes(method, path, body[:first], headers=headers, length=len(body)))
        if len(body) > first and not self.answered_within(3):
            self.sock.sendall(body[first:])

    def close(self):
        self.reader.close()
        self.sock.close()
