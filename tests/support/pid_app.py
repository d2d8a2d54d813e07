"""A WSGI app answering with the pid of the process that served the request: which gunicorn
worker holds a connection (tests/registry_portal/test_balanced_worker.py)."""
import os


def app(environ, start_response):
    body = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
