"""registry_portal.access_log: gunicorn's access line, written directly (scripts/lib.sh --logger-class)."""
import base64
import logging
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from gunicorn import glogging
from gunicorn.config import Config

from registry_portal.access_log import AccessLogger

STAMP = re.compile(r"\[\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\]")


def _logger(logger_class, cfg: Config):
    # gunicorn's loggers are process-wide, and pytest's log capture adds its handlers to them while
    # a test runs: the logger is made as in a gunicorn process, where only gunicorn's handler is there.
    for name in ("gunicorn.access", "gunicorn.error"):
        logging.getLogger(name).handlers.clear()
    return logger_class(cfg)


def _config(accesslog: str, **settings: str) -> Config:
    cfg = Config()
    cfg.set("accesslog", accesslog)
    for name, value in settings.items():
        cfg.set(name, value)
    return cfg


def _environ(**extra: str) -> dict[str, str]:
    return {
        "REQUEST_METHOD": "GET", "RAW_URI": "/v2/org/app/manifests/latest?x=1", "SERVER_PROTOCOL": "HTTP/1.1",
        "PATH_INFO": "/v2/org/app/manifests/latest", "QUERY_STRING": "x=1", "REMOTE_ADDR": "10.0.0.7",
        "HTTP_USER_AGENT": 'docker/27.0 go/1.22 "quoted"', **extra,
    }


REQUEST = SimpleNamespace(headers=[("HOST", "registry.example")])
RESPONSES = [
    SimpleNamespace(status="200 OK", sent=1234, headers=[("Content-Type", "application/json")]),
    SimpleNamespace(status="404 Not Found", sent=0, headers=[]),
    SimpleNamespace(status="500 Internal Server Error", sent=None, headers=[]),
]
ENVIRONS = [
    _environ(),
    _environ(HTTP_REFERER="https://portal/x", HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"$oauthtoken:key").decode()),
    _environ(RAW_URI='/v2/a"b/tags/list', HTTP_AUTHORIZATION="Bearer abc"),
    {"REQUEST_METHOD": "HEAD", "RAW_URI": "/v2/", "SERVER_PROTOCOL": "HTTP/1.0"},  # no address, agent, referer
]


def _lines(logger_class, path, resp, environ) -> list[str]:
    logger = _logger(logger_class, _config(str(path)))
    logger.access(resp, REQUEST, environ, timedelta(microseconds=1500))
    for handler in logging.getLogger("gunicorn.access").handlers:
        handler.flush()
    return path.read_text().splitlines()


@pytest.mark.parametrize("resp", RESPONSES)
@pytest.mark.parametrize("environ", ENVIRONS)
def test_it_writes_the_line_gunicorn_writes(tmp_path, resp, environ):
    ours = _lines(AccessLogger, tmp_path / "ours.log", resp, environ)
    theirs = _lines(glogging.Logger, tmp_path / "gunicorn.log", resp, environ)
    assert len(ours) == len(theirs) == 1
    assert STAMP.search(ours[0])
    assert STAMP.sub("[t]", ours[0]) == STAMP.sub("[t]", theirs[0])


def test_it_skips_gunicorns_atoms_with_the_default_format(tmp_path, monkeypatch):
    def atoms(*args):
        raise AssertionError("the generic formatting path ran")

    monkeypatch.setattr(glogging.Logger, "atoms", atoms)
    line, = _lines(AccessLogger, tmp_path / "ours.log", RESPONSES[0], ENVIRONS[0])
    assert '"GET /v2/org/app/manifests/latest?x=1 HTTP/1.1" 200 1234' in line


def test_a_custom_format_is_left_to_gunicorn(tmp_path):
    path = tmp_path / "ours.log"
    logger = _logger(AccessLogger, _config(str(path), access_log_format="%(s)s %(m)s %({content-type}o)s"))
    logger.access(RESPONSES[0], REQUEST, ENVIRONS[0], timedelta(0))
    assert path.read_text() == "200 GET application/json\n"


def test_a_failure_goes_to_the_error_log(tmp_path):
    errors = tmp_path / "error.log"
    logger = _logger(AccessLogger, _config(str(tmp_path / "ours.log"), errorlog=str(errors)))
    logger.access(SimpleNamespace(status="200 OK", headers=[]), REQUEST, {}, timedelta(0))  # no REQUEST_METHOD
    assert "KeyError: 'REQUEST_METHOD'" in errors.read_text()
    assert (tmp_path / "ours.log").read_text() == ""
