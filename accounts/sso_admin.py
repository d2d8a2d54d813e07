"""Django admin for single sign-on (registered from accounts.admin). Saves go through
accounts.sso.provider_configure, so the secret is encrypted and domains stay unique as on the portal."""
from django import forms
from django.contrib import admin, messages

from accounts import sso
from registry_portal.errors import RegistryError
from accounts.models import SsoIdentity, SsoProvider


class SsoProviderAdminForm(forms.ModelForm):
    issuer = forms.URLField(max_length=500, assume_scheme="https")
    client_secret = forms.CharField(
        required=False, widget=forms.PasswordInput(render_value=False),
        help_text="Stored encrypted; leave empty to keep the stored secret.",
    )
    domains = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="E-mail domains, one per line.")

    class Meta:
        model = SsoProvider
        fields = ("org", "issuer", "client_id", "client_secret", "client_secret_env", "scopes", "domains", "allow_owner_password")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["domains"] = "\n".join(self.instance.domains.values_list("domain", flat=True))


@admin.register(SsoProvider)
class SsoProviderAdmin(admin.ModelAdmin):
    form = SsoProviderAdminForm
    list_display = ("org", "issuer", "client_id", "domain_list", "allow_owner_password")
    search_fields = ("org__name", "issuer", "domains__domain")
    autocomplete_fields = ("org",)

    @admin.display(description="domains")
    def domain_list(self, obj: SsoProvider) -> str:
        return ", ".join(obj.domains.values_list("domain", flat=True))

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            saved = sso.provider_configure(
                org=data["org"], actor=None, issuer=data["issuer"], client_id=data["client_id"],
                client_secret=data["client_secret"], client_secret_env=data["client_secret_env"], scopes=data["scopes"],
                domains=data["domains"].replace(",", "\n").split(), allow_owner_password=data["allow_owner_password"],
            )
        except RegistryError as exc:
            messages.error(request, exc.message)
            return
        obj.pk = saved.pk

    def save_related(self, request, form, formsets, change):
        pass  # domains were saved by provider_configure


@admin.register(SsoIdentity)
class SsoIdentityAdmin(admin.ModelAdmin):
    list_display = ("user", "provider", "subject", "last_sign_in_at")
    search_fields = ("user__email", "subject")
    readonly_fields = ("provider", "user", "subject", "created_at", "last_sign_in_at")
