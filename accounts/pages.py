"""The web portal's identity pages (guide chapter 2.2–2.4).

Views parse with a form, fetch through accounts.permissions, call one service and render.
`portal_page` (registry_portal.web_gate) handles sign-in, the onboarding gate and policy errors.
"""
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login, logout
from django.db.models import Count
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts import forms, services, throttles
from registry_portal.errors import Gone, NotFound, RegistryError
from accounts.middleware import SESSION_ORG, SESSION_TEAM
from accounts.models import ApiKey, Invitation, RoleBinding, User
from accounts.permissions import Action, Space, can, get_space, grantable_roles, held_roles, require, visible_teams
from accounts.roles import Role
from registry_portal.web_gate import error_page, form_error, portal_page, throttled_page

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


# --- small helpers --------------------------------------------------------------------------


NEW_API_KEY_SESSION = "accounts.new_api_key"  # the plaintext, kept for the one GET that shows it


def _space_url(name: str, space: Space, *args) -> str:
    """The URL of a space-scoped page ("users", "invite", ...) for an org or a team space."""
    if space.team:
        return reverse(f"accounts:team-{name}", args=[space.org.name, space.team.name, *args])
    return reverse(f"accounts:org-{name}", args=[space.org.name, *args])


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse(fallback)


def _remember_space(request, space: Space) -> None:
    request.session[SESSION_ORG] = space.org.name
    if space.team:
        request.session[SESSION_TEAM] = space.team.name
    else:
        request.session.pop(SESSION_TEAM, None)



def _members(space: Space) -> list[dict]:
    """Members of the space with their roles, from one query (role bindings joined to users/teams)."""
    bindings = RoleBinding.objects.filter(org=space.org).select_related("user", "team")
    if space.team:
        bindings = bindings.filter(team=space.team)
    rows: dict[int, dict] = {}
    for binding in bindings.order_by("user__email", "team__name", "role"):
        row = rows.setdefault(binding.user_id, {"user": binding.user, "roles": [], "team_roles": [], "is_owner": False})
        label = Role(binding.role).label
        if binding.team_id is None or space.team:
            row["roles"].append(label)
        else:
            row["team_roles"].append((binding.team.name, label))
        row["is_owner"] |= binding.role == Role.ORG_OWNER
    for row in rows.values():
        row["edit_url"] = _space_url("member-edit", space, row["user"].pk)
        row["remove_url"] = _space_url("member-remove", space, row["user"].pk)
    return list(rows.values())


def _pending_invitations(space: Space):
    invitations = Invitation.objects.filter(org=space.org, accepted_at__isnull=True, expires_at__gt=timezone.now())
    if space.team:
        invitations = invitations.filter(team=space.team)
    invitations = list(invitations.select_related("team", "invited_by").order_by("-created_at"))
    for invitation in invitations:
        invitation.org_role_labels = [Role(r).label for r in invitation.org_roles]
        invitation.team_role_labels = [Role(r).label for r in invitation.team_roles] if invitation.team_id else []
        invitation.resend_url = _space_url("invitation-action", space, invitation.pk, "resend")
        invitation.revoke_url = _space_url("invitation-action", space, invitation.pk, "revoke")
    return invitations


def _invite_options(actor: User, space: Space) -> dict:
    """What the Membership step may offer: only roles the actor can grant, only teams they manage."""
    if space.team:
        return {"org_roles": set(), "teams": [space.team], "team_roles": grantable_roles(actor, space)}
    teams, team_roles = [], set()
    for team in visible_teams(actor, space.org).order_by("name"):
        roles = grantable_roles(actor, Space(space.org, team))
        if roles:
            teams.append(team)
            team_roles |= roles
    return {"org_roles": grantable_roles(actor, space), "teams": teams, "team_roles": team_roles}


# --- signing in and out ----------------------------------------------------------------------


def home(request):
    return redirect("accounts:dashboard" if request.user.is_authenticated else "accounts:signin")


def signin_password_url(email: str, next_url: str = "") -> str:
    """Step 2 of sign-in: the password form for this e-mail, carrying ?next= along."""
    return f"{reverse('accounts:signin')}?{urlencode({'email': email, **({'next': next_url} if next_url else {})})}"


def signin_email_step(request, form: forms.SignInEmailForm, *, note: str = ""):
    return render(request, "accounts/signin.html", {
        "step": "email", "form": form, "note": note, "next": request.POST.get("next") or request.GET.get("next", ""),
    })


def signin(request):
    """Two steps on one URL (guide 2.2.1): the e-mail alone (accounts.sso_views sends a mapped
    domain to its provider before this view), then the password form at ?email=...; django-axes
    watches the password step only, as only it authenticates."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if request.method == "POST" and "password" not in request.POST:
        step = forms.SignInEmailForm(request.POST)
        if not step.is_valid():
            return signin_email_step(request, step)
        return redirect(signin_password_url(step.cleaned_data["email"].strip().lower(), next_url))
    if request.method == "GET":
        step = forms.SignInEmailForm(request.GET if request.GET.get("email") else None)
        if not step.is_bound or not step.is_valid():
            return signin_email_step(request, step)
    form = forms.SignInForm(request.POST or None, request=request, initial={"email": request.GET.get("email", "")})
    if request.method == "POST" and form.is_valid():
        login(request, form.user)
        # "Set your organization" appears at every sign-in (guide 2.2.1).
        target = reverse("accounts:set-organization")
        return redirect(f"{target}?{urlencode({'next': _safe_next(request, 'accounts:dashboard')})}")
    return render(request, "accounts/signin.html", {
        "step": "password", "form": form, "next": next_url,
        "another_email": f"{reverse('accounts:signin')}?{urlencode({'next': next_url})}" if next_url else reverse("accounts:signin"),
    })


@require_POST
def signout(request):
    logout(request)
    messages.info(request, "You have signed out.")
    return redirect("accounts:signin")


# --- activation: invitation → account → verified e-mail → preferences → organization --------


def invitation(request, token: str):
    wait = throttles.invitation_retry_after(request)
    if wait is not None:
        return throttled_page(request, wait, "Too many attempts with invitation links from your network.")
    try:
        invite = services.invitation_from_token(token)
    except RegistryError as exc:
        throttles.invitation_link_failed(request)
        return error_page(request, exc)
    existing = User.objects.filter(email__iexact=invite.email).first()
    if existing is not None:
        return _invitation_sign_in(request, token, invite, existing)
    return _invitation_sign_up(request, token, invite)


def _invitation_sign_in(request, token: str, invite: Invitation, existing: User):
    """Guide 2.2.3: an existing account signs in (or is signed in) and accepts."""
    signed_in = request.user.is_authenticated and request.user.pk == existing.pk
    form = forms.InvitationSignInForm(request.POST or None, request=request, email=existing.email)
    if request.method == "POST" and (signed_in or form.is_valid()):
        user = request.user if signed_in else form.user
        try:
            services.invitation_accept(token=token, user=user)
        except RegistryError as exc:
            return error_page(request, exc)
        if not signed_in:
            login(request, user)
        messages.success(request, f"You joined {invite.org.display_name}.")
        query = f"?org={invite.org.name}" + (f"&team={invite.org.name}/{invite.team.name}" if invite.team else "")
        return redirect(reverse("accounts:set-organization") + query)
    return render(request, "accounts/invitation_signin.html", {"invitation": invite, "form": form, "signed_in": signed_in})


def _invitation_sign_up(request, token: str, invite: Invitation):
    """Guide 2.2.2: "Create your account"; the e-mail is the invited address."""
    form = forms.SignUpForm(request.POST or None, email=invite.email, initial={"name": invite.name})
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_sign_up(token=token, name=form.cleaned_data["name"], password=form.cleaned_data["password"])
        except (NotFound, Gone) as exc:
            return error_page(request, exc)
        except RegistryError as exc:
            form_error(form, exc)
        else:
            login(request, user, backend=MODEL_BACKEND)
            return redirect("accounts:verify-email-sent")
    return render(request, "accounts/invitation_signup.html", {"invitation": invite, "form": form})


@portal_page(needs_preferences=False, needs_space=False)
def verify_email_sent(request):
    if request.user.email_verified:
        return redirect("accounts:preferences")
    if request.method == "POST":
        services.email_verification_request(user=request.user)
        messages.success(request, f"We sent a new verification e-mail to {request.user.email}.")
        return redirect("accounts:verify-email-sent")
    return render(request, "accounts/verify_email_sent.html")


def verify_email(request, token: str):
    try:
        user = services.email_verify(token=token)
    except RegistryError as exc:
        return error_page(request, exc)
    if request.user.is_authenticated and request.user.pk == user.pk:
        messages.success(request, "Your e-mail address is verified.")
        return redirect("accounts:preferences")
    messages.success(request, "Your e-mail address is verified. Sign in to continue.")
    return redirect("accounts:signin")


@portal_page(needs_preferences=False, needs_space=False)
def preferences(request):
    form = forms.PreferencesForm(request.POST or None, initial={"product_news_opt_in": request.user.product_news_opt_in})
    if request.method == "POST" and form.is_valid():
        services.user_update_preferences(user=request.user, product_news_opt_in=form.cleaned_data["product_news_opt_in"])
        return redirect("accounts:set-organization")
    return render(request, "accounts/preferences.html", {"form": form})


@portal_page(needs_space=False)
def set_organization(request):
    current = request.get_current_space()
    initial = {
        "org": request.GET.get("org") or (current.org.name if current else ""),
        "team": request.GET.get("team") or (current.path if current and current.team else ""),
    }
    form = forms.SetOrganizationForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        _remember_space(request, form.space)
        return redirect(_safe_next(request, "accounts:dashboard"))
    return render(request, "accounts/set_organization.html", {"form": form, "next": request.GET.get("next", "")})


@require_POST
@portal_page(needs_space=False)
def switch_space(request):
    form = forms.SwitchSpaceForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("space", ["Choose an organization or team."])))
        return redirect("accounts:set-organization")
    _remember_space(request, form.target)
    messages.info(request, f"You are now working in {form.target.path}.")
    back = _safe_next(request, "accounts:dashboard")
    # Pages under /org/<name>/ show one space: follow the switch to the same page of the new one.
    if back.startswith("/org/"):
        back = reverse("accounts:teams" if "/teams" in back else "accounts:users" if "/users" in back else "accounts:dashboard")
    return redirect(back)


# --- portal pages ------------------------------------------------------------------------------


@portal_page
def dashboard(request):
    space = request.get_current_space()
    roles = sorted(held_roles(request.user, space), key=Role.values.index)
    return render(request, "accounts/dashboard.html", {"space": space, "roles": [Role(r).label for r in roles]})


@portal_page
def users_current(request):
    return redirect(_space_url("users", request.get_current_space()))


@portal_page
def teams_current(request):
    return redirect("accounts:org-teams", request.get_current_space().org.name)


@portal_page
def users(request, org: str, team: str | None = None):
    space = get_space(request.user, org, team)
    require(request.user, Action.VIEW_USERS, space)
    return render(request, "accounts/users.html", {
        "space": space, "members": _members(space), "invitations": _pending_invitations(space),
        "can_manage": can(request.user, Action.MANAGE_USERS, space), "invite_url": _space_url("invite", space),
    })


@portal_page
def invite(request, org: str, team: str | None = None):
    """Invite New User: step 1 (name, e-mail), step 2 (membership), Confirm."""
    space = get_space(request.user, org, team)
    require(request.user, Action.MANAGE_USERS, space)
    context = {"space": space, "users_url": _space_url("users", space)}
    existing = _space_member_by_email(space, request.POST.get("email", "").strip()) if request.method == "POST" else None
    if existing is not None:  # a member gets their roles changed, not a second invitation
        return render(request, "accounts/invite_details.html", {
            **context, "form": forms.InviteDetailsForm(request.POST), "existing": existing,
            "edit_url": _space_url("member-edit", space, existing.pk),
        })
    if request.POST.get("step") == "membership":
        form = forms.InviteMembershipForm(request.POST, **_invite_options(request.user, space))
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.invitation_create(
                    actor=request.user, org=space.org, email=data["email"], name=data["name"],
                    org_roles=data["org_roles"], team=data["team_obj"], team_roles=data["team_roles"],
                )
            except RegistryError as exc:
                form_error(form, exc)
            else:
                messages.success(request, f"Invitation sent to {data['email']}.")
                return redirect(context["users_url"])
        return render(request, "accounts/invite_membership.html", {**context, "form": form})
    details = forms.InviteDetailsForm(request.POST or None)
    if request.method == "POST" and details.is_valid():
        form = forms.InviteMembershipForm(initial=details.cleaned_data, **_invite_options(request.user, space))
        return render(request, "accounts/invite_membership.html", {**context, "form": form})
    return render(request, "accounts/invite_details.html", {**context, "form": details})


def _space_member_by_email(space: Space, email: str) -> User | None:
    """The member of the space (any role in the org, or in the team for a team space) with `email`."""
    bindings = RoleBinding.objects.filter(org=space.org, user__email__iexact=email)
    if space.team:
        bindings = bindings.filter(team=space.team)
    binding = bindings.select_related("user").first()
    return binding.user if binding else None


@portal_page
def invitation_action(request, org: str, invitation_id: int, action: str, team: str | None = None):
    """Revoke or resend a pending invitation (POST from the Users page's pending list)."""
    space = get_space(request.user, org, team)
    require(request.user, Action.MANAGE_USERS, space)
    invitation = next((row for row in _pending_invitations(space) if row.pk == invitation_id), None)
    if request.method != "POST" or action not in ("revoke", "resend") or invitation is None:
        raise NotFound("No such pending invitation.")
    if action == "revoke":
        services.invitation_revoke(actor=request.user, invitation=invitation)
        messages.success(request, f"Revoked the invitation to {invitation.email}.")
    else:
        services.invitation_resend(actor=request.user, invitation=invitation)
        messages.success(request, f"Sent the invitation to {invitation.email} again.")
    return redirect(_space_url("users", space))


def _member_of(space: Space, user_id: int) -> User:
    member = User.objects.filter(pk=user_id, role_bindings__org=space.org).distinct().first()
    if member is None:
        raise NotFound(f"That user is not a member of {space.org.name}.")
    return member


@portal_page
def member_edit(request, org: str, user_id: int, team: str | None = None):
    """Edit Membership: replace the member's roles in the space; roles the actor cannot grant stay."""
    space = get_space(request.user, org, team)
    require(request.user, Action.MANAGE_USERS, space)
    member = _member_of(space, user_id)
    current = set(services.member_roles(user=member, space=space))
    grantable = grantable_roles(request.user, space)
    form = forms.MembershipForm(request.POST or None, grantable=grantable, initial={"roles": sorted(current & grantable)})
    if request.method == "POST" and form.is_valid():
        kept = current - grantable - {Role.ORG_OWNER}
        try:
            services.member_set_roles(actor=request.user, space=space, user=member, roles=set(form.cleaned_data["roles"]) | kept)
        except RegistryError as exc:
            form_error(form, exc)
        else:
            messages.success(request, f"Updated the roles of {member.email} in {space.path}.")
            return redirect(_space_url("users", space))
    kept_labels = [Role(r).label for r in sorted(current - grantable, key=Role.values.index)]
    return render(request, "accounts/member_edit.html", {
        "space": space, "member": member, "form": form, "kept": kept_labels, "users_url": _space_url("users", space),
    })


@portal_page
def member_remove(request, org: str, user_id: int, team: str | None = None):
    space = get_space(request.user, org, team)
    require(request.user, Action.MANAGE_USERS, space)
    member = _member_of(space, user_id)
    error = None
    if request.method == "POST":
        try:
            services.member_remove(actor=request.user, space=space, user=member)
        except RegistryError as exc:
            error = exc.message
        else:
            messages.success(request, f"Removed {member.email} from {space.path}.")
            return redirect(_space_url("users", space))
    return render(request, "accounts/member_remove.html", {
        "space": space, "member": member, "error": error, "users_url": _space_url("users", space),
    })


@portal_page
def teams(request, org: str):
    space = get_space(request.user, org)
    team_list = visible_teams(request.user, space.org).annotate(member_count=Count("role_bindings__user", distinct=True))
    return render(request, "accounts/teams.html", {
        "space": space, "teams": team_list.order_by("name"), "can_create": can(request.user, Action.MANAGE_TEAMS, space),
    })


@portal_page
def team_create(request, org: str):
    space = get_space(request.user, org)
    require(request.user, Action.MANAGE_TEAMS, space)
    form = forms.TeamCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            team = services.team_create(org=space.org, actor=request.user, **form.cleaned_data)
        except RegistryError as exc:
            form_error(form, exc)
        else:
            messages.success(request, f"Team '{team.name}' created.")
            return redirect("accounts:team-detail", space.org.name, team.name)
    return render(request, "accounts/team_create.html", {"space": space, "form": form})


@portal_page
def team_detail(request, org: str, team: str):
    space = get_space(request.user, org, team)
    can_view_users = can(request.user, Action.VIEW_USERS, space)
    return render(request, "accounts/team_detail.html", {
        "space": space, "team": space.team, "members": _members(space) if can_view_users else None,
        "can_add": can(request.user, Action.MANAGE_USERS, space),
    })


@portal_page
def team_add_user(request, org: str, team: str):
    """Add User (guide 2.4.4): an existing member of the org joins the team with a role."""
    space = get_space(request.user, org, team)
    require(request.user, Action.MANAGE_USERS, space)
    form = forms.TeamAddUserForm(request.POST or None, org=space.org, grantable=grantable_roles(request.user, space))
    if request.method == "POST" and form.is_valid():
        try:
            services.member_add(actor=request.user, space=space, user=form.member, roles=[form.cleaned_data["role"]])
        except RegistryError as exc:
            form_error(form, exc)
        else:
            messages.success(request, f"Added {form.member.email} to team '{space.team.name}'.")
            return redirect("accounts:team-detail", space.org.name, space.team.name)
    # The picker offers the org's members who are not in the team yet.
    org_members = (
        User.objects.filter(role_bindings__org=space.org).exclude(role_bindings__team=space.team).distinct().order_by("email")
    )
    return render(request, "accounts/team_add_user.html", {"space": space, "form": form, "org_members": org_members})


@portal_page(needs_space=False)
def api_key(request):
    """Setup → API Key (guide 2.3): Generate → warning → Confirm → the key, shown once.

    POST-redirect-GET: the new key waits in the session for exactly one GET, so a reload neither
    re-POSTs (which would silently replace the key just copied) nor shows the key a second time.
    """
    if request.method == "POST":
        request.session[NEW_API_KEY_SESSION] = services.api_key_generate(user=request.user)
        return redirect("accounts:api-key")
    new_key = request.session.pop(NEW_API_KEY_SESSION, None)
    response = render(request, "accounts/api_key.html", {
        "new_key": new_key, "key": ApiKey.objects.filter(user=request.user).first(),
        "confirming": not new_key and "generate" in request.GET,
    })
    if new_key:
        response["Cache-Control"] = "no-store"
    return response
