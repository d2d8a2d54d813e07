"""gunicorn's access log line, written without gunicorn's generic formatting machinery.

gunicorn's Logger.access builds a dict of every atom its format language knows (each request
header, response header and WSGI environ entry among them), copies it into a SafeAtoms dict,
calls strftime and goes through the logging module's record, handler and formatter for one line:
about a fifth of the worker's CPU per manifest GET (docs/performance.md). With the default
access_log_format and gunicorn's own plain handler (`--access-logfile -` or a file), this logger
writes the same line itself: the same atoms, quotes escaped as SafeAtoms does, to the handler's
stream under its lock (so `kill -USR1`'s reopen still applies). Any other setup (a custom format,
syslog, a logging config) goes through gunicorn's own code unchanged.

Used with `gunicorn --logger-class registry_portal.access_log.AccessLogger` (scripts/lib.sh).
"""
import logging
import time
import traceback

from gunicorn import glogging
from gunicorn.config import AccessLogFormat

DEFAULT_FORMAT = AccessLogFormat.default
PLAIN_HANDLERS = (logging.StreamHandler, logging.FileHandler)


def _safe(value) -> str:
    # SafeAtoms' escaping of text atoms, paid only when there is something to escape.
    if isinstance(value, str):
        return value.replace('"', '\\"') if '"' in value else value
    return f"{value}"


class AccessLogger(glogging.Logger):
    _stamp: tuple[int, str] = (-1, "")  # (second, its timestamp): one attribute, so threads see a pair

    def setup(self, cfg) -> None:
        super().setup(cfg)
        self._direct_handler = self._plain_access_handler()

    def _plain_access_handler(self) -> logging.StreamHandler | None:
        """gunicorn's own stream or file handler when it alone writes the default format, else None."""
        log = self.access_log
        if self.cfg.access_log_format != DEFAULT_FORMAT or log.filters or not log.isEnabledFor(logging.INFO):
            return None
        if len(log.handlers) != 1:
            return None
        handler = log.handlers[0]
        if (
            type(handler) not in PLAIN_HANDLERS or not getattr(handler, "_gunicorn", False) or handler.filters
            or handler.level > logging.INFO or handler.formatter is None
            or handler.formatter._fmt != self.access_fmt
        ):
            return None
        return handler

    def access(self, resp, req, environ, request_time) -> None:
        handler = getattr(self, "_direct_handler", None)
        if handler is None:
            super().access(resp, req, environ, request_time)
            return
        try:
            line = self._default_line(resp, environ)
            with handler.lock:  # type: ignore[union-attr]  # created with the handler
                stream = handler.stream
                if stream is not None:  # a closed FileHandler: emit() below reopens it
                    stream.write(line)
                    stream.flush()
                    return
        except Exception:
            self.error(traceback.format_exc())
            return
        super().access(resp, req, environ, request_time)

    def _default_line(self, resp, environ) -> str:
        """The default access_log_format, '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"',
        with the values gunicorn's atoms() gives, and a newline."""
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        sent = getattr(resp, "sent", None)
        request = f"{environ['REQUEST_METHOD']} {environ['RAW_URI']} {environ['SERVER_PROTOCOL']}"
        return (
            f"{_safe(environ.get('REMOTE_ADDR', '-'))} - {_safe(self._get_user(environ) or '-')} {self.now()}"
            f' "{_safe(request)}" {_safe(status)} {sent if sent is not None else "-"}'
            f' "{_safe(environ.get("HTTP_REFERER", "-"))}" "{_safe(environ.get("HTTP_USER_AGENT", "-"))}"\n'
        )

    def now(self) -> str:
        """gunicorn's timestamp, formatted once per second."""
        now = time.time()
        second, stamp = self._stamp
        if int(now) != second:
            stamp = time.strftime("[%d/%b/%Y:%H:%M:%S %z]", time.localtime(now))
            self._stamp = (int(now), stamp)
        return stamp

