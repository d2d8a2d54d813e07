"""The one way this project changes a method of gunicorn's Response (registry_portal.mapped_send,
registry_portal.one_send): once per process, marked so that a second install and the tests can
tell, and not at all under another WSGI server."""
from collections.abc import Callable


def replace_method(name: str, marker: str, make: Callable[[type, Callable], Callable]) -> None:
    """Response.<name> becomes make(Response, the original method), marked with the attribute
    `marker`; nothing happens when it already is, or when gunicorn is not installed."""
    try:
        from gunicorn.http.wsgi import Response
    except ImportError:  # another WSGI server: nothing to change
        return
    original = getattr(Response, name)
    if getattr(original, marker, False):
        return
    replacement = make(Response, original)
    setattr(replacement, marker, True)
    setattr(Response, name, replacement)
