"""The client's one error type: a single line for stderr and an exit code."""
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import requests


class NgcError(Exception):
    """A user-facing error: `message` is printed as one line on stderr, the process exits with `exit_code`."""

    def __init__(self, message: str, exit_code: int = 1, status: int | None = None):
        super().__init__(message)
        self.message = " ".join(str(message).split())  # always one line
        self.exit_code = exit_code
        self.status = status


class NotFoundError(NgcError):
    pass


class AuthError(NgcError):
    pass


class ForbiddenError(NgcError):
    pass


def server_message(response: "requests.Response") -> str:
    """The server's own description of an error response, or ''."""
    try:
        body = response.json()
    except ValueError:
        return (response.text or "").strip()[:300]
    if isinstance(body, dict):
        status = body.get("requestStatus") or {}
        for text in (status.get("statusDescription"), body.get("detail"), body.get("error"), body.get("message")):
            if text:
                return str(text)
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return str(errors[0].get("message") or errors[0].get("code") or "")
    return ""


def from_response(response: "requests.Response", what: str | None = None) -> NgcError:
    """Map an HTTP error response to an NgcError."""
    code = response.status_code
    text = server_message(response)
    if code == 401:
        return AuthError("Invalid API key", status=code)
    if code == 403:
        return ForbiddenError(f"Forbidden: {text}" if text else "Forbidden: your role does not allow this action", status=code)
    if code == 404:
        if what:
            return NotFoundError(f"{what} could not be found" + (f" ({text})" if text and text.lower() not in ("not found.", "not found") else ""), status=code)
        return NotFoundError(text or "Not found", status=code)
    if code == 409:
        return NgcError(text or "Already exists", status=code)
    return NgcError(f"Error {code}: {text}" if text else f"Error {code} from {response.url}", status=code)
