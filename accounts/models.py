"""Identity data: users, orgs, teams, role bindings, invitations and API keys.

Role bindings are the source of truth for access; `accounts.permissions` derives everything
else from them (including the django-guardian object permissions it keeps in sync).
"""
import secrets
import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from guardian.models import UserObjectPermissionBase

from accounts.roles import Access, Role, Service
from registry_portal.names import name_validator


# Org names that would collide with fixed routes of the API, the registry or the portal.
RESERVED_ORG_NAMES = frozenset(
    {
        "admin", "api", "accounts", "auth", "catalog", "device", "helm", "hub", "keys", "login",
        "logout", "me", "org", "orgs", "ping", "products", "public", "registry", "resources",
        "roles", "search", "setup", "signin", "static", "teams", "token", "users", "v1", "v2",
        "v3", "_catalog", "health", "media", "nvidia",
    }
)


# Object permissions on Org and Team, one per (service, access) of the role table, e.g.
# "container_write". accounts.permissions keeps them in sync with role bindings.
SPACE_PERMISSIONS = [
    (f"{service.lower()}_{access.lower()}", f"{service} {access}") for service in Service.values for access in Access.values
]


def _nonce() -> str:
    return secrets.token_hex(16)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **fields):
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **fields):
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields):
        fields.update(is_staff=True, is_superuser=True, email_verified=True)
        return self._create(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. The e-mail address is the login."""

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=150, blank=True)
    # NGC clients identify the caller by this opaque id (sent back as NV-actor-ID).
    starfleet_id = models.CharField(max_length=64, unique=True, default=uuid.uuid4, editable=False)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    email_verified = models.BooleanField(default=False)
    terms_accepted_at = models.DateTimeField(null=True, blank=True)
    product_news_opt_in = models.BooleanField(default=False)
    preferences_completed = models.BooleanField(default=False)
    # Rotated when a verification link is used, so each link works once (accounts.tokens).
    email_verification_nonce = models.CharField(max_length=32, default=_nonce, editable=False)
    # Bumped whenever what the user's bearer tokens may do can have shrunk: their role bindings
    # changed, their API key was replaced, they were deactivated or reactivated. Tokens carry the
    # value they were issued at; a write under an older value re-checks the current policy
    # (accounts.permissions.authz_version_bump, docs/permissions.md "Tokens after a change").
    authz_version = models.PositiveIntegerField(default=0, editable=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return self.name or self.email


class Org(models.Model):
    """An organization: the top-level registry space."""

    name = models.CharField(max_length=64, unique=True, validators=[name_validator])
    display_name = models.CharField(max_length=128)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        permissions = SPACE_PERMISSIONS

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    """A team inside an org; its artifacts are invisible to other teams."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=64, validators=[name_validator])
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["org__name", "name"]
        permissions = SPACE_PERMISSIONS
        constraints = [models.UniqueConstraint(fields=["org", "name"], name="team_unique_name_in_org")]

    def __str__(self) -> str:
        return f"{self.org.name}/{self.name}"


class RoleBinding(models.Model):
    """One role held by one user at org level (team is null) or at team level."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_bindings")
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="role_bindings")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, null=True, blank=True, related_name="role_bindings")
    role = models.CharField(max_length=32, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["org__name", "team__name", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "org", "role"], condition=Q(team__isnull=True), name="rolebinding_unique_org_role"
            ),
            models.UniqueConstraint(
                fields=["user", "team", "role"], condition=Q(team__isnull=False), name="rolebinding_unique_team_role"
            ),
            # Exactly one owner per org: at most one here, at least one kept by the services.
            models.UniqueConstraint(
                fields=["org"], condition=Q(role=Role.ORG_OWNER), name="rolebinding_single_org_owner"
            ),
            models.CheckConstraint(
                condition=~Q(role=Role.ORG_OWNER) | Q(team__isnull=True), name="rolebinding_owner_is_org_level"
            ),
        ]
        indexes = [models.Index(fields=["user", "org"])]

    def __str__(self) -> str:
        where = f"{self.org.name}/{self.team.name}" if self.team_id else self.org.name
        return f"{self.user.email}: {self.role} @ {where}"


class Invitation(models.Model):
    """An e-mailed, single-use, expiring invitation to join an org (and optionally a team)."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="invitations")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, null=True, blank=True, related_name="invitations")
    email = models.EmailField()
    name = models.CharField(max_length=150, blank=True)
    org_roles = models.JSONField(default=list, blank=True)
    team_roles = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="sent_invitations")
    # The link carries an HMAC over the id and this nonce (accounts.tokens); the link is never stored.
    nonce = models.CharField(max_length=32, default=_nonce, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="accepted_invitations"
    )
    email_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["org", "accepted_at"])]

    def __str__(self) -> str:
        return f"{self.email} → {self.org.name}"

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and not self.is_expired


class ApiKey(models.Model):
    """A user's API key. One per user: generating a new one replaces (invalidates) the old."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="api_key")
    prefix = models.CharField(max_length=16, db_index=True)
    # sha256 of the whole key: keys are 256-bit random strings, so a fast hash is safe and keeps auth cheap.
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user.email})"


class OrgUserObjectPermission(UserObjectPermissionBase):
    """Guardian's per-user permission rows on an Org (direct foreign key: fast lookups)."""

    content_object = models.ForeignKey(Org, on_delete=models.CASCADE)


class TeamUserObjectPermission(UserObjectPermissionBase):
    """Guardian's per-user permission rows on a Team."""

    content_object = models.ForeignKey(Team, on_delete=models.CASCADE)


class SsoProvider(models.Model):
    """An org's OpenID Connect provider (guide 2.2.1). Endpoints come from the issuer's discovery
    document; the client secret is never stored in clear (accounts.sso)."""

    org = models.OneToOneField(Org, on_delete=models.CASCADE, related_name="sso_provider")
    issuer = models.URLField(max_length=500)
    client_id = models.CharField(max_length=255)
    # Either the name of an environment variable holding the secret, or the secret encrypted with a
    # key derived from SECRET_KEY; neither for a public client.
    client_secret_env = models.CharField(max_length=128, blank=True)
    client_secret_encrypted = models.TextField(blank=True)
    scopes = models.CharField(max_length=255, default="openid email profile")
    # Break-glass: the Org Owner may still sign in with a password when the provider is down.
    allow_owner_password = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "SSO provider"
        constraints = [
            models.CheckConstraint(
                condition=Q(client_secret_env="") | Q(client_secret_encrypted=""), name="ssoprovider_one_secret_source"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.org.name}: {self.issuer}"


class SsoDomain(models.Model):
    """An e-mail domain whose people sign in through a provider. A domain maps to one org at most."""

    provider = models.ForeignKey(SsoProvider, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(max_length=253, unique=True)

    class Meta:
        verbose_name = "SSO e-mail domain"
        ordering = ["domain"]
        constraints = [models.CheckConstraint(condition=Q(domain=Lower("domain")), name="ssodomain_lowercase")]

    def __str__(self) -> str:
        return self.domain


class SsoIdentity(models.Model):
    """Links a provider's subject (`sub`) to an account, so a renamed e-mail keeps its account."""

    provider = models.ForeignKey(SsoProvider, on_delete=models.CASCADE, related_name="identities")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sso_identities")
    subject = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "SSO identity"
        verbose_name_plural = "SSO identities"
        constraints = [models.UniqueConstraint(fields=["provider", "subject"], name="ssoidentity_unique_subject")]

    def __str__(self) -> str:
        return f"{self.user.email} @ {self.provider.issuer}"
