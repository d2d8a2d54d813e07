"""A WSGI app answering with the id of the thread that serves the request (tests/registry_portal/test_web_worker.py)."""
import threading


def application(environ, start_response):
    body = str(threading.get_ident()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
