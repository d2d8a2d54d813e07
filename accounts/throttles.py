"""Who is throttled where on the identity faces (the mechanisms: registry_portal/throttling.py).

- Portal sign-in (and the admin's): django-axes, by (e-mail, client IP); the form shows why and
  the page answers 429 with Retry-After.
- `/token`: its own module (registry_portal/token_endpoint.py).
- Invitation links: unknown or expired links per client IP, and acceptance POSTs per client IP.
"""
import math

from axes.backends import AxesStandaloneBackend
from django.conf import settings

from registry_portal.throttling import FailOpenRateThrottle, FailureLockout, client_ip

# --- portal sign-in (django-axes) -------------------------------------------------------------


class SignInLockoutBackend(AxesStandaloneBackend):
    """axes' lockout check for sign-ins that come with a request (the portal's and the admin's
    forms). Without a request (Django's test client `login()`, scripts) there is no client to
    throttle by, so the check is skipped instead of refusing."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def signin_cooloff_seconds() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def signin_locked_message() -> str:
    minutes = math.ceil(signin_cooloff_seconds() / 60)
    return (
        f"Too many failed sign-in attempts for this account from your network. "
        f"Sign-in is paused for {minutes} minute{'s' if minutes != 1 else ''}; try again later."
    )


def signin_locked_out(request, original_response, credentials):
    """AXES_LOCKOUT_CALLABLE: keep the page the view rendered (its form shows
    `signin_locked_message`), answered as 429 with Retry-After."""
    from django.http import HttpResponse

    response = original_response if original_response is not None else HttpResponse(signin_locked_message())
    response.status_code = 429
    response.reason_phrase = "Too Many Requests"
    response["Retry-After"] = str(signin_cooloff_seconds())
    return response


def signin_was_locked_out(request) -> bool:
    """True when axes refused (or just locked out) the sign-in attempt of this request."""
    return bool(getattr(request, "axes_locked_out", False))


# --- invitation links -------------------------------------------------------------------------


def invitation_failures() -> FailureLockout:
    return FailureLockout(
        "invitation",
        limit=settings.THROTTLE_INVITATION_FAILURE_LIMIT,
        window=settings.THROTTLE_INVITATION_FAILURE_WINDOW,
    )


class InvitationRateThrottle(FailOpenRateThrottle):
    """Acceptance attempts (POSTs: sign in and accept, or create an account) per client IP."""

    scope = "invitation"
    rate_setting = "THROTTLE_INVITATION_RATE"

    def get_cache_key(self, request, view) -> str | None:
        return self.key_for(client_ip(request)) if request.method == "POST" else None


def invitation_retry_after(request) -> int | None:
    """Seconds the client must wait before using an invitation link again, or None."""
    wait = invitation_failures().retry_after(client_ip(request))
    if wait is not None:
        return wait
    rate = InvitationRateThrottle()
    if not rate.allow_request(request, None):
        return math.ceil(rate.wait() or 1)
    return None


def invitation_link_failed(request) -> None:
    invitation_failures().record_failure(client_ip(request))
