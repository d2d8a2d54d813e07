"""Forms of the web portal's identity pages. They parse and validate input; the services decide."""
from django import forms
from django.contrib.auth import authenticate, password_validation

from accounts.models import RoleBinding, User
from accounts.permissions import Space, get_space, visible_orgs, visible_teams
from registry_portal.errors import NotFound
from accounts.roles import Role
from accounts.throttles import signin_locked_message, signin_was_locked_out


def role_choices(roles) -> list[tuple[str, str]]:
    """(value, label) pairs in the guide's order."""
    return [(role, Role(role).label) for role in Role.values if role in set(roles)]


def password_refused_error(email: str) -> forms.ValidationError | None:
    """Why a password sign-in failed when the address's domain signs in with SSO (the refusal
    itself is accounts.sso.PasswordRefusedForSsoBackend's)."""
    from accounts import sso

    provider = sso.password_refused_by(email)
    if provider is None:
        return None
    return forms.ValidationError(sso.password_refused_message(provider), code="sso_required")


class SignInEmailForm(forms.Form):
    """Step 1 of sign-in: the e-mail alone decides between the org's provider and a password."""

    email = forms.EmailField(label="E-mail", widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}))


class SignInForm(forms.Form):
    """Step 2 of sign-in: the password, for the e-mail given in step 1."""

    email = forms.EmailField(label="E-mail", widget=forms.EmailInput(attrs={"autocomplete": "username", "readonly": True}))
    password = forms.CharField(label="Password", widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}))

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        self.user = None

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        self.user = authenticate(self.request, username=data["email"].strip().lower(), password=data["password"])
        if self.user is None:
            if signin_was_locked_out(self.request):
                raise forms.ValidationError(signin_locked_message(), code="locked_out")
            raise password_refused_error(data["email"]) or forms.ValidationError("Incorrect e-mail or password.")
        return data


class InvitationSignInForm(forms.Form):
    """Guide 2.2.3: an existing account enters its password to accept."""

    password = forms.CharField(label="Password", widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}))

    def __init__(self, *args, request=None, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.request, self.email, self.user = request, email, None

    def clean(self):
        data = super().clean()
        if not self.errors:
            self.user = authenticate(self.request, username=self.email, password=data["password"])
            if self.user is None:
                if signin_was_locked_out(self.request):
                    raise forms.ValidationError(signin_locked_message(), code="locked_out")
                raise forms.ValidationError("Incorrect password.")
        return data


class SignUpForm(forms.Form):
    """Guide 2.2.2: "Create your account"; the e-mail is the invited one and cannot change."""

    name = forms.CharField(label="Full name", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name", "autofocus": True}))
    password = forms.CharField(label="Password", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password_confirm = forms.CharField(label="Confirm password", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    terms = forms.BooleanField(
        label="I agree to the Terms and Conditions",
        error_messages={"required": "You must agree to the Terms and Conditions to create an account."},
    )

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        data = super().clean()
        password, confirm = data.get("password"), data.get("password_confirm")
        if password and confirm and password != confirm:
            self.add_error("password_confirm", "The two passwords do not match.")
        elif password:
            try:
                password_validation.validate_password(password, User(email=self.email, name=data.get("name", "")))
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return data


class PreferencesForm(forms.Form):
    product_news_opt_in = forms.BooleanField(
        label="Send me news about products, events and training", required=False
    )


def _space_value(space: Space) -> str:
    return space.path


class SetOrganizationForm(forms.Form):
    """Pick the org and (optionally) the team to work in, from the user's memberships."""

    org = forms.ChoiceField(label="Organization")
    team = forms.ChoiceField(label="Team", required=False)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.orgs = list(visible_orgs(user))
        self.fields["org"].choices = [(org.name, f"{org.display_name} ({org.name})") for org in self.orgs]
        team_choices = [("", "No team (org level)")]
        self.teams_by_org = {}
        for org in self.orgs:
            teams = list(visible_teams(user, org))
            self.teams_by_org[org.name] = teams
            if teams:
                team_choices.append((org.name, [(f"{org.name}/{team.name}", team.name) for team in teams]))
        self.fields["team"].choices = team_choices
        self.space = None

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        org_name, team_value = data["org"], data.get("team") or ""
        team_org, _, team_name = team_value.partition("/")
        if team_value and team_org != org_name:
            self.add_error("team", f"Team '{team_name}' is not in the organization '{org_name}'.")
            return data
        try:
            self.space = get_space(self.user, org_name, team_name or None)
        except NotFound as exc:
            raise forms.ValidationError(exc.message) from None
        return data


class SwitchSpaceForm(forms.Form):
    space = forms.CharField(max_length=140)
    next = forms.CharField(required=False)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user, self.target = user, None

    def clean_space(self):
        org_name, _, team_name = self.cleaned_data["space"].partition("/")
        try:
            self.target = get_space(self.user, org_name, team_name or None)
        except NotFound as exc:
            raise forms.ValidationError(exc.message) from None
        return self.cleaned_data["space"]


class InviteDetailsForm(forms.Form):
    """Invite New User, step 1."""

    name = forms.CharField(label="Display name", max_length=150)
    email = forms.EmailField(label="E-mail")

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()


class InviteMembershipForm(InviteDetailsForm):
    """Invite New User, step 2 ("Membership"): only roles the actor may grant are offered."""

    org_roles = forms.MultipleChoiceField(label="Organization roles", required=False, widget=forms.CheckboxSelectMultiple)
    team = forms.ChoiceField(label="Team", required=False)
    team_roles = forms.MultipleChoiceField(label="Team roles", required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, org_roles, teams, team_roles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].widget = forms.HiddenInput()
        self.fields["email"].widget = forms.HiddenInput()
        self.fields["org_roles"].choices = role_choices(org_roles)
        self.teams = {team.name: team for team in teams}
        self.fields["team"].choices = [("", "No team")] + [(team.name, team.name) for team in teams]
        self.fields["team_roles"].choices = role_choices(team_roles)

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        data["team_obj"] = self.teams.get(data.get("team") or "")
        if data["team_roles"] and data["team_obj"] is None:
            self.add_error("team", "Choose the team that the team roles apply to.")
        elif data["team_obj"] is not None and not data["team_roles"]:
            self.add_error("team_roles", "Choose at least one role for the team.")
        elif not data["org_roles"] and not data["team_roles"]:
            raise forms.ValidationError("Assign at least one organization role or team role.")
        return data


class MembershipForm(forms.Form):
    """Edit Membership: the roles the actor may grant, as checkboxes."""

    roles = forms.MultipleChoiceField(label="Roles", required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, grantable, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["roles"].choices = role_choices(grantable)


class TeamCreateForm(forms.Form):
    # The service's rule (accounts.services.TEAM_NAME_RE); its message is shown as this field's error.
    name = forms.CharField(
        label="Team name", max_length=64, widget=forms.TextInput(attrs={"placeholder": "vision-team"}),
        help_text="Lowercase letters, digits, '-', '_' or '.', starting and ending with a letter or digit, "
        "for example vision-team.",
    )
    description = forms.CharField(label="Description", required=False, widget=forms.Textarea(attrs={"rows": 3}))


class TeamAddUserForm(forms.Form):
    """Add an existing member of the org to a team with one role."""

    email = forms.EmailField(
        label="Member", help_text="Type to search the organization's members by name or e-mail.",
        widget=forms.EmailInput(attrs={"list": "org-members", "autocomplete": "off", "placeholder": "name or e-mail"}),
    )
    role = forms.ChoiceField(label="Role", help_text="Registry Read is the least privilege; raise it only as needed.")

    def __init__(self, *args, org, grantable, **kwargs):
        super().__init__(*args, **kwargs)
        self.org = org
        self.fields["role"].choices = role_choices(grantable)
        # Least privilege by default: Registry Read when it may be granted, else the lowest offered.
        offered = [value for value, _label in self.fields["role"].choices]
        self.fields["role"].initial = Role.REGISTRY_READ if Role.REGISTRY_READ in offered else (offered[-1] if offered else None)
        self.member = None

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        binding = RoleBinding.objects.select_related("user").filter(org=self.org, user__email__iexact=email).first()
        if binding is None:
            raise forms.ValidationError(
                f"No member of '{self.org.name}' has the e-mail {email}. Invite them to the organization first."
            )
        self.member = binding.user
        return email
