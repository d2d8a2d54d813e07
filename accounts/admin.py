"""Django admin for the identity tables. Role changes made here bypass the services' grant rules,
so it is for server operators; guardian permissions are re-synced (accounts.permissions) on every
binding, team and org saved or deleted here, as the services do."""
from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm

from accounts import permissions, services
from accounts.forms import password_refused_error
from accounts.models import ApiKey, Invitation, Org, RoleBinding, Team, User


class AdminSignInForm(AdminAuthenticationForm):
    """The admin's login says why a mapped domain's password is refused (the refusal itself is
    accounts.sso.PasswordRefusedForSsoBackend's, shared with the portal)."""

    def get_invalid_login_error(self):
        return password_refused_error(self.cleaned_data.get("username") or "") or super().get_invalid_login_error()


admin.site.login_form = AdminSignInForm


class EmailUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email", "name")


class EmailUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class RoleBindingInline(admin.TabularInline):
    model = RoleBinding
    fk_name = "user"
    extra = 0
    autocomplete_fields = ("org", "team")
    readonly_fields = ("org", "team", "role", "created_at")
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = EmailUserChangeForm
    add_form = EmailUserCreationForm
    ordering = ("email",)
    list_display = ("email", "name", "email_verified", "is_active", "is_staff", "date_joined")
    list_filter = ("is_active", "is_staff", "email_verified", "preferences_completed")
    search_fields = ("email", "name")
    readonly_fields = ("starfleet_id", "date_joined", "last_login", "terms_accepted_at")
    inlines = [RoleBindingInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("name", "starfleet_id", "email_verified", "product_news_opt_in", "preferences_completed", "terms_accepted_at")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "name", "password1", "password2")}),)

    def get_inlines(self, request, obj):
        # A new account has no role bindings yet; they are shown (read-only) once it exists.
        return self.inlines if obj is not None else []

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data:
            services.user_set_active(user=obj, is_active=obj.is_active)  # tokens issued before stop writing


class TeamAdminForm(forms.ModelForm):
    """A new team's name must not be one org-level repositories already use (services.team_name_conflict)."""

    class Meta:
        model = Team
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        org, name = cleaned.get("org") or getattr(self.instance, "org", None), cleaned.get("name")
        if self.instance.pk is None and org is not None and name:
            reason = services.team_name_conflict(org=org, name=name)
            if reason:
                raise forms.ValidationError(reason)
        return cleaned


class TeamInline(admin.TabularInline):
    model = Team
    form = TeamAdminForm
    extra = 0
    fields = ("name", "description", "created_at")
    readonly_fields = ("created_at",)


@admin.register(Org)
class OrgAdmin(admin.ModelAdmin):
    list_display = ("name", "display_name", "created_at")
    search_fields = ("name", "display_name")
    inlines = [TeamInline]

    def save_formset(self, request, form, formset, change):
        if formset.model is not Team:
            return super().save_formset(request, form, formset, change)
        teams = formset.save(commit=False)
        for team in formset.deleted_objects:
            permissions.team_delete_synced(team)
        for team in teams:
            team.save()
        if formset.new_objects:
            permissions.sync_org_permissions(org=form.instance)  # org-wide roles reach the new teams

    def delete_model(self, request, obj):
        permissions.org_delete_synced(obj)

    def delete_queryset(self, request, queryset):
        for org in queryset:
            permissions.org_delete_synced(org)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    form = TeamAdminForm
    list_display = ("name", "org", "created_at")
    list_filter = ("org",)
    search_fields = ("name", "org__name")
    list_select_related = ("org",)

    def get_readonly_fields(self, request, obj=None):
        # A team's bindings and artifacts name its org too: a team does not move between orgs.
        return ("org",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            permissions.sync_org_permissions(org=obj.org)  # org-wide roles reach the new team

    def delete_model(self, request, obj):
        permissions.team_delete_synced(obj)

    def delete_queryset(self, request, queryset):
        for team in queryset.select_related("org"):
            permissions.team_delete_synced(team)


@admin.register(RoleBinding)
class RoleBindingAdmin(admin.ModelAdmin):
    list_display = ("user", "org", "team", "role", "created_at")
    list_filter = ("role", "org")
    search_fields = ("user__email", "org__name", "team__name")
    list_select_related = ("user", "org", "team")
    autocomplete_fields = ("user", "org", "team")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        permissions.sync_space_permissions(user=obj.user, org=obj.org)

    def delete_model(self, request, obj):
        user, org = obj.user, obj.org
        super().delete_model(request, obj)
        permissions.sync_space_permissions(user=user, org=org)

    def delete_queryset(self, request, queryset):
        affected = {(b.user, b.org) for b in queryset.select_related("user", "org")}
        super().delete_queryset(request, queryset)
        for user, org in affected:
            permissions.sync_space_permissions(user=user, org=org)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("email", "org", "team", "created_at", "expires_at", "accepted_at", "email_sent_at")
    list_filter = ("org",)
    search_fields = ("email", "org__name")
    list_select_related = ("org", "team")
    readonly_fields = ("nonce", "created_at", "accepted_at", "accepted_by", "email_sent_at", "invited_by")


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are shown by prefix only; the hash is read-only and keys are made by their owners."""

    list_display = ("prefix", "user", "created_at", "last_used_at")
    search_fields = ("prefix", "user__email")
    list_select_related = ("user",)
    readonly_fields = ("user", "prefix", "key_hash", "created_at", "last_used_at")

    def has_add_permission(self, request):
        return False

from accounts import sso_admin  # noqa: E402,F401  single sign-on (registers its own models)
