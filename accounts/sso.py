"""Single sign-on by e-mail domain (guide 2.2.1): an org's OpenID Connect provider, the e-mail
domains mapped to it, and the sign-in that lands a person in the org.

The protocol work is done by well-kept libraries: Authlib's OAuth2Session builds the
authorization request (state, PKCE S256) and redeems the code; joserfc (Authlib's JOSE
successor) verifies the ID token's signature against the provider's JWKS and its claims (issuer,
audience, expiry, nonce). Nothing here parses a JWT by hand.

The flow, for the views in accounts.sso_views:
  sign_in_begin() -> a PendingSignIn kept in the session under its `state`, and the URL to send the
  browser to; the provider redirects back with ?code&state; sign_in_complete() redeems the code,
  validates the ID token and returns its claims; sign_in_user() turns verified claims into an
  account (creating, linking or refusing) and accepts invitations.
"""
import base64
import os
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import requests
from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts import services
from registry_portal.errors import AccessDenied, Conflict, InvalidInput, RegistryError
from accounts.models import Invitation, Org, RoleBinding, SsoDomain, SsoIdentity, SsoProvider, User
from accounts.permissions import Action, Space, held_roles, require
from accounts.roles import Role

# Authlib, joserfc and cryptography are imported by the functions that talk to a provider or
# handle the client secret, not when a web worker starts: together ~12 MB of every worker's memory
# that only sign-ins and their admin pages use (docs/performance.md, Memory).
if TYPE_CHECKING:
    from authlib.integrations.requests_client import OAuth2Session
    from cryptography.fernet import Fernet
    from joserfc.jwk import KeySet

HTTP_TIMEOUT = 5  # seconds; a provider that does not answer gives a clear page, not a hung worker
# Asymmetric algorithms only: an HS256 token would be signed with the client secret, which the
# provider's JWKS cannot vouch for.
ID_TOKEN_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
CLOCK_SKEW_SECONDS = 60
PENDING_TTL_SECONDS = 600


class ProviderUnavailable(RegistryError):
    """The provider could not be reached or answered nonsense (discovery, JWKS, token endpoint)."""


class SignInRefused(AccessDenied):
    """The provider answered, but the answer does not let this person in."""


# --- the client secret -----------------------------------------------------------------------


def _fernet() -> "Fernet":
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    # A key of its own derived from SECRET_KEY (HKDF), so the secret is not encrypted under a key
    # that also signs sessions; rotating SECRET_KEY means entering the secret again.
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"registry-sso-client-secret").derive(
        settings.SECRET_KEY.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def client_secret(provider: SsoProvider) -> str | None:
    """The client secret in clear, from the referenced environment variable or decrypted."""
    if provider.client_secret_env:
        value = os.environ.get(provider.client_secret_env)
        if not value:
            raise ProviderUnavailable(
                f"The environment variable {provider.client_secret_env} that holds the SSO client secret is not set."
            )
        return value
    if provider.client_secret_encrypted:
        from cryptography.fernet import InvalidToken

        try:
            return _fernet().decrypt(provider.client_secret_encrypted.encode()).decode()
        except InvalidToken:
            raise ProviderUnavailable(
                "The stored SSO client secret cannot be decrypted (was DJANGO_SECRET_KEY changed?). Enter it again."
            ) from None
    return None


# --- configuration -------------------------------------------------------------------------


def normalize_domain(domain: str) -> str:
    domain = (domain or "").strip().lower().lstrip("@").rstrip(".")
    labels = domain.split(".")
    if len(labels) < 2 or not all(label and len(label) <= 63 and label.replace("-", "").isalnum() for label in labels):
        raise InvalidInput(f"'{domain}' is not an e-mail domain (e.g. acme.example).", field="domains")
    return domain


def email_domain(email: str) -> str:
    return (email or "").strip().lower().rpartition("@")[2]


def provider_for_email(email: str) -> SsoProvider | None:
    """The provider whose org maps this address's domain, if any."""
    domain = email_domain(email)
    if not domain:
        return None
    mapping = SsoDomain.objects.select_related("provider__org").filter(domain=domain).first()
    return mapping.provider if mapping else None


def require_org_owner(actor: User, org: Org) -> None:
    """SSO decides who may enter the whole org: the Org Owner's call alone (404 for outsiders)."""
    require(actor, Action.VIEW_SPACE, Space(org))
    if Role.ORG_OWNER not in held_roles(actor, Space(org)):
        raise AccessDenied("Only the Org Owner can configure single sign-on.")


def provider_configure(
    *,
    org: Org,
    actor: User | None,
    issuer: str,
    client_id: str,
    client_secret: str | None = None,
    client_secret_env: str | None = None,
    scopes: str = "openid email profile",
    domains: list[str] | None = None,
    allow_owner_password: bool = False,
) -> SsoProvider:
    """Create or update the org's provider and replace its mapped domains. Only the Org Owner may
    (actor None: a server operator's management command). A domain already mapped to another org
    is refused (the database's unique constraint backs this under concurrency). A secret left
    empty keeps the stored one; `client_secret_env` switches to an environment variable."""
    if actor is not None:
        require_org_owner(actor, org)
    issuer = (issuer or "").strip().rstrip("/")
    if not issuer.startswith(("https://", "http://")):
        raise InvalidInput("The issuer must be an https:// URL.", field="issuer")
    if not (client_id or "").strip():
        raise InvalidInput("The client id is required.", field="client_id")
    scope_list = (scopes or "").split()
    if "openid" not in scope_list:
        scope_list.insert(0, "openid")
    for wanted in ("email", "profile"):
        if wanted not in scope_list:
            scope_list.append(wanted)
    cleaned_domains = sorted({normalize_domain(d) for d in (domains or [])})
    with transaction.atomic():
        provider = SsoProvider.objects.select_for_update().filter(org=org).first() or SsoProvider(org=org)
        provider.issuer, provider.client_id, provider.scopes = issuer, client_id.strip(), " ".join(scope_list)
        provider.allow_owner_password = allow_owner_password
        if client_secret_env:
            provider.client_secret_env, provider.client_secret_encrypted = client_secret_env.strip(), ""
        elif client_secret:
            provider.client_secret_env = ""
            provider.client_secret_encrypted = _fernet().encrypt(client_secret.encode()).decode()
        provider.updated_at = timezone.now()
        services._full_clean(provider)
        provider.save()
        taken = SsoDomain.objects.filter(domain__in=cleaned_domains).exclude(provider=provider).select_related("provider__org")
        for mapping in taken:
            raise Conflict(f"The domain {mapping.domain} is already mapped to another organization.", field="domains")
        provider.domains.exclude(domain__in=cleaned_domains).delete()
        try:
            with transaction.atomic():
                for domain in cleaned_domains:
                    SsoDomain.objects.get_or_create(provider=provider, domain=domain)
        except IntegrityError:
            raise Conflict("One of these domains was just mapped to another organization.", field="domains") from None
    return provider


def provider_delete(*, org: Org, actor: User | None) -> None:
    """Turn SSO off for the org: its people sign in with passwords again (they may need a reset)."""
    if actor is not None:
        require_org_owner(actor, org)
    SsoProvider.objects.filter(org=org).delete()


# --- talking to the provider ----------------------------------------------------------------


def _get_json(url: str, what: str) -> dict[str, Any]:
    try:
        response = requests.get(url, timeout=HTTP_TIMEOUT)
        response.raise_for_status()
        return response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailable(f"The sign-in provider could not be reached ({what}: {exc.__class__.__name__}).") from None


def discover(provider: SsoProvider) -> dict[str, Any]:
    """The issuer's discovery document; its `issuer` must be the configured one (OIDC Discovery 4.3)."""
    metadata = _get_json(f"{provider.issuer}/.well-known/openid-configuration", "discovery")
    if metadata.get("issuer", "").rstrip("/") != provider.issuer:
        raise ProviderUnavailable(
            f"The provider's discovery document names issuer {metadata.get('issuer')!r}, not {provider.issuer!r}."
        )
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not metadata.get(key):
            raise ProviderUnavailable(f"The provider's discovery document has no {key}.")
    return metadata


def jwks(metadata: dict[str, Any]) -> "KeySet":
    from joserfc.errors import JoseError
    from joserfc.jwk import KeySet

    try:
        return KeySet.import_key_set(_get_json(metadata["jwks_uri"], "JWKS"))
    except (JoseError, ValueError, KeyError, TypeError):
        raise ProviderUnavailable("The provider's JWKS could not be read.") from None


def test_connection(provider: SsoProvider) -> list[str]:
    """Fetch discovery and the JWKS; return what was found, line by line (raises ProviderUnavailable)."""
    metadata = discover(provider)
    keys = jwks(metadata)
    client_secret(provider)
    lines = [
        f"Issuer: {metadata['issuer']}",
        f"Authorization endpoint: {metadata['authorization_endpoint']}",
        f"Token endpoint: {metadata['token_endpoint']}",
        f"Signing keys: {len(keys.keys)} ({', '.join(sorted({k.key_type for k in keys.keys}))})",
    ]
    if "S256" not in metadata.get("code_challenge_methods_supported", ["S256"]):
        lines.append("Warning: the provider does not announce PKCE S256.")
    lines.append(f"Sign-out endpoint: {metadata.get('end_session_endpoint') or 'none'}")
    return lines


def redirect_uri() -> str:
    """The one redirect URI to register at every provider."""
    return f"{settings.SITE_URL}{reverse('accounts:sso-callback')}"


@dataclass
class PendingSignIn:
    """What the session keeps between the redirect to the provider and its answer."""

    provider_id: int
    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str
    started_at: float
    invitation_token: str = ""
    next: str = ""
    login_hint: str = ""
    extra: dict = field(default_factory=dict)

    def to_session(self) -> dict:
        return asdict(self)


def _client(provider: SsoProvider, *, redirect: str, state: str | None = None) -> "OAuth2Session":
    from authlib.integrations.requests_client import OAuth2Session

    return OAuth2Session(
        client_id=provider.client_id,
        client_secret=client_secret(provider),
        scope=provider.scopes,
        redirect_uri=redirect,
        state=state,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic" if client_secret(provider) else "none",
    )


def sign_in_begin(
    *, provider: SsoProvider, login_hint: str = "", invitation_token: str = "", next_url: str = ""
) -> tuple[str, PendingSignIn]:
    """The provider's authorization URL (code flow, PKCE S256, fresh state and nonce)."""
    from authlib.common.security import generate_token

    metadata = discover(provider)
    pending = PendingSignIn(
        provider_id=provider.pk, state=generate_token(32), nonce=generate_token(32),
        code_verifier=generate_token(64), redirect_uri=redirect_uri(), started_at=timezone.now().timestamp(),
        invitation_token=invitation_token, next=next_url, login_hint=login_hint,
    )
    params = {"nonce": pending.nonce, "code_verifier": pending.code_verifier}
    if login_hint:
        params["login_hint"] = login_hint
    url, _ = _client(provider, redirect=pending.redirect_uri, state=pending.state).create_authorization_url(
        metadata["authorization_endpoint"], state=pending.state, **params
    )
    return url, pending


def id_token_claims(*, provider: SsoProvider, metadata: dict[str, Any], id_token: str, nonce: str) -> dict[str, Any]:
    """Verify the ID token's signature against the provider's JWKS and its claims: issuer,
    audience (and azp when there are several), expiry, issued-at, nonce (OIDC Core 3.1.3.7)."""
    from joserfc import jwt
    from joserfc.errors import JoseError

    try:
        token = jwt.decode(id_token, jwks(metadata), algorithms=ID_TOKEN_ALGORITHMS)
    except (JoseError, ValueError) as exc:
        raise SignInRefused(f"The provider's ID token was refused: its signature does not verify ({exc.__class__.__name__}).") from None
    registry = jwt.JWTClaimsRegistry(
        leeway=CLOCK_SKEW_SECONDS,
        iss={"essential": True, "value": metadata["issuer"]},
        aud={"essential": True, "value": provider.client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(token.claims)
    except JoseError as exc:
        raise SignInRefused(f"The provider's ID token was refused: {exc.description or exc.error}.") from None
    audience = token.claims["aud"]
    if isinstance(audience, list) and len(audience) > 1 and token.claims.get("azp") != provider.client_id:
        raise SignInRefused("The provider's ID token was refused: it was issued to another client (azp).")
    return dict(token.claims)


def sign_in_complete(*, pending: PendingSignIn, code: str, iss: str = "") -> tuple[SsoProvider, dict[str, Any], str]:
    """Redeem the code (with the PKCE verifier) and validate the ID token; returns the provider,
    the verified claims and the raw ID token (kept for the provider's sign-out). An `iss` on the
    redirect (RFC 9207) must be the provider's own: an answer from another provider is a mix-up."""
    from authlib.integrations.base_client import OAuthError

    if timezone.now().timestamp() - pending.started_at > PENDING_TTL_SECONDS:
        raise SignInRefused("The sign-in took too long. Start again.")
    provider = SsoProvider.objects.select_related("org").filter(pk=pending.provider_id).first()
    if provider is None:
        raise SignInRefused("Single sign-on is no longer configured for this organization.")
    if iss and iss.rstrip("/") != provider.issuer:
        raise SignInRefused("This sign-in answer comes from another provider than the one it was sent to.")
    metadata = discover(provider)
    client = _client(provider, redirect=pending.redirect_uri, state=pending.state)
    try:
        token = client.fetch_token(
            metadata["token_endpoint"], grant_type="authorization_code", code=code,
            code_verifier=pending.code_verifier, timeout=HTTP_TIMEOUT,
        )
    except OAuthError as exc:
        raise SignInRefused(f"The provider refused the sign-in: {exc.error}.") from None
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailable(f"The sign-in provider could not be reached (token: {exc.__class__.__name__}).") from None
    id_token = token.get("id_token")
    if not id_token:
        raise SignInRefused("The provider did not return an ID token (is the 'openid' scope allowed?).")
    claims = id_token_claims(provider=provider, metadata=metadata, id_token=id_token, nonce=pending.nonce)
    if "email" not in claims and metadata.get("userinfo_endpoint"):
        # Conformant providers may keep scope claims out of the ID token when they issue an
        # access token (OIDC Core 5.4): ask UserInfo, whose `sub` must match (5.3.2).
        try:
            response = client.get(metadata["userinfo_endpoint"], timeout=HTTP_TIMEOUT)
            response.raise_for_status()
            info = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise ProviderUnavailable(f"The sign-in provider could not be reached (userinfo: {exc.__class__.__name__}).") from None
        if info.get("sub") != claims["sub"]:
            raise SignInRefused("The provider's UserInfo answer is about another subject.")
        claims = {**info, **claims}
    return provider, claims, id_token


# --- accounts ----------------------------------------------------------------------------------


def _accept_pending_invitations(*, user: User, invitation_token: str) -> list[Invitation]:
    """Accept the invitation the person came from, and any other pending one for their address:
    the provider vouched for the address as the e-mailed link would have."""
    accepted = []
    if invitation_token:
        accepted.append(services.invitation_accept(token=invitation_token, user=user))
    pending = Invitation.objects.filter(email__iexact=user.email, accepted_at__isnull=True, expires_at__gt=timezone.now())
    for invitation in pending:
        accepted.append(services.invitation_accept(token=services.invitation_link_token(invitation), user=user))
    return accepted


def sign_in_user(*, provider: SsoProvider, claims: dict[str, Any], invitation_token: str = "") -> User:
    """The account an SSO sign-in lands in. Rules:
    - the ID token's e-mail must be verified by the provider and in a domain mapped to its org;
    - a known subject signs in to its account; otherwise an account with that e-mail is linked
      (a password account whose domain became mapped); otherwise a new account is created — only
      for someone with a pending invitation — with no password and the e-mail verified;
    - pending invitations for the address are accepted;
    - someone who holds no role in any org afterwards (e.g. removed from the org) is refused,
      whatever the provider says. Removed from this org but a member of another: signed in, with
      no access to this org (the policy answers for each space)."""
    email = (claims.get("email") or "").strip().lower()
    if not email:
        raise SignInRefused("The provider did not share your e-mail address (is the 'email' scope allowed?).")
    if claims.get("email_verified") is not True:
        raise SignInRefused(f"The provider has not verified the e-mail address {email}.")
    if provider_for_email(email) != provider:
        raise SignInRefused(f"{email_domain(email)} is not one of the e-mail domains {provider.org.display_name} signs in here.")
    with transaction.atomic():
        identity = SsoIdentity.objects.select_related("user").filter(provider=provider, subject=claims["sub"]).first()
        user = identity.user if identity else User.objects.filter(email__iexact=email).first()
        if user is not None and not user.is_active:
            raise SignInRefused("This account is disabled.")
        if user is None:
            has_invitation = Invitation.objects.filter(
                email__iexact=email, accepted_at__isnull=True, expires_at__gt=timezone.now()
            ).exists()
            if not has_invitation:
                raise SignInRefused(
                    f"{email} has no account here and no pending invitation. Ask your organization administrator to invite you."
                )
            name = (claims.get("name") or " ".join(filter(None, [claims.get("given_name"), claims.get("family_name")]))).strip()
            user = services.user_create(email=email, name=name[:150], email_verified=True)
            user.terms_accepted_at = timezone.now()
            user.save(update_fields=["terms_accepted_at"])
        elif not user.email_verified:
            # The provider vouches for the address: no verification e-mail needed.
            user.email_verified = True
            user.save(update_fields=["email_verified"])
        _accept_pending_invitations(user=user, invitation_token=invitation_token)
        if not RoleBinding.objects.filter(user=user).exists():
            raise SignInRefused(
                f"{email} is not a member of {provider.org.display_name}. Ask your organization administrator to invite you."
            )
        identity, _ = SsoIdentity.objects.get_or_create(provider=provider, subject=claims["sub"], defaults={"user": user})
        if identity.user_id != user.pk:
            raise SignInRefused("This sign-in is linked to another account.")
        identity.last_sign_in_at = timezone.now()
        identity.save(update_fields=["last_sign_in_at"])
    return user


def password_refused_by(email: str) -> SsoProvider | None:
    """The provider this address must sign in with instead of a password, or None when a password may be used.
    The break-glass flag lets the org's Owner in with a password (e.g. while the provider is down)."""
    provider = provider_for_email(email)
    if provider is None:
        return None
    if provider.allow_owner_password:
        from accounts.services import org_owner

        owner = org_owner(provider.org)
        if owner is not None and owner.email.lower() == email.strip().lower():
            return None
    return provider


def password_refused_message(provider: SsoProvider) -> str:
    return (
        f"{provider.org.display_name} signs in with single sign-on: enter only your e-mail on the sign-in page "
        "and continue at your organization's sign-in page."
    )


class PasswordRefusedForSsoBackend:
    """First password backend in AUTHENTICATION_BACKENDS, so every password sign-in (the portal's
    two-step form, invitation acceptance, Django admin's login) passes here: an address in a mapped
    domain is refused before any password is checked (PermissionDenied stops the backend chain),
    unless the org's break-glass lets its Owner in. It never authenticates anyone itself."""

    def authenticate(self, request, username: str | None = None, password: str | None = None, **kwargs):
        email = username or kwargs.get(User.USERNAME_FIELD) or ""
        if password is not None and email and password_refused_by(str(email)) is not None:
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied("password sign-in refused: the e-mail domain signs in with SSO")
        return None  # no get_user(): never a session's backend (force_login picks the first that has one)


def end_session_url(*, provider_id: int, id_token: str, post_logout_redirect_uri: str) -> str | None:
    """The provider's RP-initiated sign-out URL, when it announces an end_session_endpoint."""
    provider = SsoProvider.objects.filter(pk=provider_id).first()
    if provider is None:
        return None
    try:
        endpoint = discover(provider).get("end_session_endpoint")
    except ProviderUnavailable:
        return None
    if not endpoint:
        return None
    from urllib.parse import urlencode

    query = urlencode({"id_token_hint": id_token, "post_logout_redirect_uri": post_logout_redirect_uri, "client_id": provider.client_id})
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


def new_secret_preview(provider: SsoProvider) -> str:
    """How the page shows where the secret lives (never the secret)."""
    if provider.client_secret_env:
        return f"from the environment variable {provider.client_secret_env}"
    if provider.client_secret_encrypted:
        return "stored encrypted"
    return "none (public client)"

