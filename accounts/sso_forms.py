"""The Org Owner's single sign-on settings form (accounts.sso_views)."""
from django import forms

from accounts.models import SsoProvider


class SsoSettingsForm(forms.Form):
    issuer = forms.URLField(
        label="Issuer URL", max_length=500, assume_scheme="https",
        help_text="The provider's issuer; its /.well-known/openid-configuration is read from there.",
    )
    client_id = forms.CharField(label="Client ID", max_length=255)
    client_secret = forms.CharField(
        label="Client secret", required=False, widget=forms.PasswordInput(render_value=False),
        help_text="Stored encrypted. Leave empty to keep the stored secret.",
    )
    client_secret_env = forms.CharField(
        label="…or read the secret from this environment variable", max_length=128, required=False,
        help_text="The variable must be set for every web process (e.g. ACME_OIDC_SECRET).",
    )
    scopes = forms.CharField(label="Scopes", max_length=255, initial="openid email profile")
    domains = forms.CharField(
        label="E-mail domains", widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line (acme.example). People with these addresses sign in through the provider.",
    )
    allow_owner_password = forms.BooleanField(
        label="Let the Org Owner sign in with a password (break-glass, e.g. while the provider is down)", required=False
    )

    @classmethod
    def initial_for(cls, provider: SsoProvider | None) -> dict:
        if provider is None:
            return {}
        return {
            "issuer": provider.issuer, "client_id": provider.client_id, "client_secret_env": provider.client_secret_env,
            "scopes": provider.scopes, "allow_owner_password": provider.allow_owner_password,
            "domains": "\n".join(provider.domains.values_list("domain", flat=True)),
        }

    def clean_domains(self) -> list[str]:
        return [line for line in self.cleaned_data["domains"].replace(",", "\n").split() if line.strip()]

    def clean_client_secret_env(self) -> str:
        value = self.cleaned_data["client_secret_env"].strip()
        if value and not value.replace("_", "").isalnum():
            raise forms.ValidationError("Use letters, digits and underscores.")
        return value
