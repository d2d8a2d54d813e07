"""The portal's onboarding gate and its error pages, as one view decorator.

A signed-in person reaches portal pages only after the activation steps of guide 2.2.2:
verified e-mail → communication preferences ("Almost done!") → a chosen org/team ("Set your
organization"). `portal_page` sends them to the first step they have not done, and turns the
policy's NotFound / AccessDenied into readable 404 / 403 pages instead of tracebacks.
"""
from functools import wraps
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse

from registry_portal.errors import AccessDenied, Gone, NotFound, RegistryError


def onboarding_step(request, *, needs_preferences: bool = True, needs_space: bool = True) -> str | None:
    """The URL of the first activation step the user still has to do, or None."""
    user = request.user
    if not user.email_verified:
        return reverse("accounts:verify-email-sent")
    if needs_preferences and not user.preferences_completed:
        return reverse("accounts:preferences")
    if needs_space and request.get_current_space() is None:
        return reverse("accounts:set-organization") + "?" + urlencode({"next": request.get_full_path()})
    return None


def error_page(request, exc: RegistryError):
    """Render a RegistryError that ends the request (not a form error) as its own page."""
    if isinstance(exc, NotFound):
        template, status = "404.html", 404
    elif isinstance(exc, AccessDenied):
        template, status = "403.html", 403
    elif isinstance(exc, Gone):
        template, status = "410.html", 410
    else:
        template, status = "400.html", 400
    return render(request, template, {"message": exc.message}, status=status)


def throttled_page(request, retry_after: int, message: str):
    """429 with Retry-After, as a page that says why and how long to wait."""
    minutes = max(1, -(-retry_after // 60))
    text = f"{message} Try again in {minutes} minute{'s' if minutes != 1 else ''}."
    response = render(request, "429.html", {"message": text}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def form_error(form, exc: RegistryError, *, field_names: dict[str, str] | None = None) -> None:
    """Show a service's refusal on the form: on the field it names (API names such as
    "isPublic" mapped to form fields by `field_names`), else above the form."""
    field = (field_names or {}).get(exc.field, exc.field)
    form.add_error(field if field in form.fields else None, exc.message)


def portal_page(view=None, *, needs_preferences: bool = True, needs_space: bool = True):
    """Sign-in required, onboarding gate, and policy errors rendered as pages."""

    def decorate(func):
        @wraps(func)
        @login_required
        def wrapper(request, *args, **kwargs):
            step = onboarding_step(request, needs_preferences=needs_preferences, needs_space=needs_space)
            if step is not None and step.split("?")[0] != request.path:
                return redirect(step)
            try:
                return func(request, *args, **kwargs)
            except RegistryError as exc:
                return error_page(request, exc)

        return wrapper

    return decorate(view) if view is not None else decorate
