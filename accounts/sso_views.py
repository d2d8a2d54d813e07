"""Single sign-on pages (guide 2.2.1): routing sign-in and invitations by e-mail domain, the
provider's callback, sign-out, and the Org Owner's settings page. The rules live in accounts.sso.

The password path stays in accounts.pages (with its lockout throttling): these views decide
only whether a request goes to the provider instead, and otherwise hand it over unchanged.
"""
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login, logout
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts import pages, services, sso
from registry_portal.errors import NotFound, RegistryError
from accounts.models import Org, SsoProvider
from accounts.forms import SignInEmailForm
from accounts.sso_forms import SsoSettingsForm
from registry_portal.web_gate import error_page, form_error, portal_page

SESSION_PENDING = "sso_pending"  # state -> PendingSignIn, each usable once
SESSION_SIGNED_IN = "sso_signed_in"  # provider id and ID token, for the provider's sign-out
MAX_PENDING = 5  # sign-ins started in other tabs that may still come back


def _safe_next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return ""


def _problem(request, exc: RegistryError):
    """A refused or failed SSO sign-in as a page of its own: 503 when the provider is unreachable."""
    if isinstance(exc, sso.ProviderUnavailable):
        return render(request, "accounts/sso_error.html", {"message": exc.message, "unavailable": True}, status=503)
    if isinstance(exc, sso.SignInRefused):
        return render(request, "accounts/sso_error.html", {"message": exc.message}, status=403)
    return error_page(request, exc)


def _begin(
    request, provider: SsoProvider, *, login_hint: str = "", invitation_token: str = "", next_url: str = "",
    land_in: dict[str, str] | None = None,
):
    """Send the browser to the provider, remembering this attempt's state, nonce and PKCE verifier."""
    try:
        url, pending = sso.sign_in_begin(
            provider=provider, login_hint=login_hint, invitation_token=invitation_token, next_url=next_url
        )
    except RegistryError as exc:
        return _problem(request, exc)
    pending.extra = land_in or {}
    started = request.session.get(SESSION_PENDING, {})
    # Keep the newest few only: a session is not a dumping ground for abandoned attempts.
    started = dict(sorted(started.items(), key=lambda item: item[1]["started_at"])[-(MAX_PENDING - 1):])
    started[pending.state] = pending.to_session()
    request.session[SESSION_PENDING] = started
    return redirect(url)


def signin(request):
    """E-mail first: step 1 with an address in a mapped domain goes to its provider; any other
    address continues to the password form (accounts.pages.signin). Opening the password step
    for a mapped address shows step 1 again, unless the org's break-glass lets its Owner in."""
    if request.method == "POST" and "password" not in request.POST:
        email = (request.POST.get("email") or "").strip().lower()
        provider = sso.provider_for_email(email)
        if provider is not None:
            return _begin(request, provider, login_hint=email, next_url=_safe_next(request))
    if request.method == "GET" and request.GET.get("email"):
        email = request.GET["email"].strip().lower()
        provider = sso.password_refused_by(email)
        if provider is not None:
            form = SignInEmailForm(initial={"email": email})
            return pages.signin_email_step(request, form, note=sso.password_refused_message(provider))
    return pages.signin(request)


def invitation(request, token: str):
    """An invitation to an address in a mapped domain opens the provider's sign-in (guide 2.2.1)."""
    try:
        invite = services.invitation_from_token(token)
    except RegistryError:
        return pages.invitation(request, token)  # the password path's pages and throttling
    provider = sso.provider_for_email(invite.email)
    if provider is None:
        return pages.invitation(request, token)
    # After the provider, "Set your organization" preselects the invitation's org and team.
    land_in = {"org": invite.org.name, **({"team": f"{invite.org.name}/{invite.team.name}"} if invite.team else {})}
    return _begin(request, provider, login_hint=invite.email, invitation_token=token, land_in=land_in)


def callback(request):
    """The provider's answer. The state is taken out of the session before anything else, so an
    answer can be used once; the code is redeemed and the ID token checked in accounts.sso."""
    state = request.GET.get("state", "")
    started = request.session.get(SESSION_PENDING, {})
    raw = started.pop(state, None) if state else None
    request.session[SESSION_PENDING] = started
    if raw is None:
        return _problem(request, sso.SignInRefused(
            "This sign-in answer is unknown, was already used, or belongs to another browser. Start again from the sign-in page."
        ))
    pending = sso.PendingSignIn(**raw)
    if request.GET.get("error"):
        detail = request.GET.get("error_description") or request.GET["error"]
        return _problem(request, sso.SignInRefused(f"The sign-in provider refused the sign-in: {detail}"))
    try:
        provider, claims, id_token = sso.sign_in_complete(
            pending=pending, code=request.GET.get("code", ""), iss=request.GET.get("iss", "")
        )
        user = sso.sign_in_user(provider=provider, claims=claims, invitation_token=pending.invitation_token)
    except RegistryError as exc:
        return _problem(request, exc)
    login(request, user, backend=pages.MODEL_BACKEND)
    request.session[SESSION_SIGNED_IN] = {"provider_id": provider.pk, "id_token": id_token}
    query = {**pending.extra, **({"next": pending.next} if pending.next else {})}
    # The guide's remaining steps: preferences (the gate asks first when needed), then the org.
    return redirect(f"{reverse('accounts:set-organization')}?{urlencode(query)}")


@require_POST
def signout(request):
    """End the portal session; offer the provider's sign-out when it has one (its session is its own)."""
    signed_in = request.session.get(SESSION_SIGNED_IN)
    if not signed_in:
        return pages.signout(request)
    end_session = sso.end_session_url(
        provider_id=signed_in["provider_id"], id_token=signed_in["id_token"],
        post_logout_redirect_uri=request.build_absolute_uri(reverse("accounts:signin")),
    )
    logout(request)
    return render(request, "accounts/sso_signed_out.html", {"end_session_url": end_session})


@portal_page(needs_space=False)
def settings_page(request, org: str):
    """The Org Owner's page: provider, domains, break-glass, and "Test connection"."""
    org_obj = Org.objects.filter(name=org).first()
    if org_obj is None:
        return error_page(request, NotFound(f"Org '{org}' not found."))
    sso.require_org_owner(request.user, org_obj)
    provider = SsoProvider.objects.filter(org=org_obj).prefetch_related("domains").first()
    action = request.POST.get("action", "save")
    form = SsoSettingsForm(request.POST or None, initial=SsoSettingsForm.initial_for(provider))
    result = None
    if request.method == "POST" and action == "delete":
        sso.provider_delete(org=org_obj, actor=request.user)
        messages.success(request, "Single sign-on is off: members sign in with passwords.")
        return redirect("accounts:sso-settings", org_obj.name)
    if request.method == "POST" and action == "test" and provider is not None:
        try:
            result = {"ok": True, "lines": sso.test_connection(provider)}
        except RegistryError as exc:
            result = {"ok": False, "lines": [exc.message]}
        form = SsoSettingsForm(initial=SsoSettingsForm.initial_for(provider))
    elif request.method == "POST" and form.is_valid():
        try:
            sso.provider_configure(org=org_obj, actor=request.user, **form.cleaned_data)
        except RegistryError as exc:
            form_error(form, exc)
        else:
            messages.success(request, "Single sign-on settings saved. Use Test connection to check them.")
            return redirect("accounts:sso-settings", org_obj.name)
    return render(request, "accounts/sso_settings.html", {
        "org": org_obj, "provider": provider, "form": form, "result": result, "redirect_uri": sso.redirect_uri(),
        "secret_source": sso.new_secret_preview(provider) if provider else "",
    })
