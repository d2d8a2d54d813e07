"""Secrets the identity layer hands out: API keys, signed bearer tokens, e-mailed link tokens.

- API keys: random, shown once, stored as sha256 with a short visible prefix.
- Bearer tokens (/token): HS256 JWTs with `exp`, the audience (service), the granted scopes, and
  the user's authz version and API key id at issue (`av`, `key`: writes compare them with the
  current ones, docs/permissions.md). Verifying one is an HMAC, so per-request auth stays cheap.
- Link tokens (invitations, e-mail verification): "<id>-<signature>" over the row id and a nonce
  kept in the database, so neither the database nor the mail log alone can forge or replay a link.
- Capability signatures (multipart part URLs, file download URLs, used without Authorization):
  a signature over a purpose, the subject it is bound to (an upload id and part number, a file id
  and user) and an expiry time, so a URL works only for that one thing and only until it expires.
Both are django.core.signing signatures, one salt per purpose: they verify under SECRET_KEY or any
of SECRET_KEY_FALLBACKS, so the key can be rotated without breaking links already handed out.
"""
import hashlib
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field

from cachetools import LRUCache, cached
from django.conf import settings
from django.core import signing

from accounts import hs256_jwt

API_KEY_PREFIX = "rk_"
API_KEY_VISIBLE_CHARS = 10


def generate_api_key() -> str:
    # No dots and no "nvapi-" prefix: NVIDIA's client then treats it as a key to exchange at /token.
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def api_key_prefix(raw_key: str) -> str:
    return raw_key[:API_KEY_VISIBLE_CHARS]


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    audience: str
    scopes: tuple[str, ...] = ()
    # Registry grants: [{"type": "repository", "name": "...", "actions": [...]}] (docker token spec).
    access: tuple[dict, ...] = field(default=())
    expires_at: int = 0
    # The user's authz version when the token was issued (User.authz_version) and the API key it was
    # obtained with; None in tokens that carry neither (anonymous ones).
    authz_version: int | None = None
    key_id: int | None = None


def issue_access_token(
    *, user_id: int, audience: str, scopes=(), access=(), ttl_seconds: float | None = None,
    authz_version: int | None = None, key_id: int | None = None,
) -> tuple[str, int]:
    """Return (token, expires_in seconds)."""
    ttl = int(ttl_seconds or settings.ACCESS_TOKEN_TTL.total_seconds())
    now = int(time.time())
    payload = {
        "iss": settings.TOKEN_ISSUER,
        "sub": str(user_id),
        "aud": audience,
        "iat": now,
        "nbf": now - 5,
        "exp": now + ttl,
        "jti": uuid.uuid4().hex,
        "scopes": list(scopes),
        "access": list(access),
    }
    if authz_version is not None:
        payload["av"] = authz_version
    if key_id is not None:
        payload["key"] = key_id
    return hs256_jwt.encode(payload, settings.TOKEN_SIGNING_KEY), ttl


class InvalidToken(Exception):
    pass


# Tokens already verified in this process, so a client's next request costs a cache lookup
# instead of a JWT decode (perf: ~0.25 ms of a ~1 ms registry manifest GET). Keyed by the
# whole signed string, so a hit is exactly the token that was checked; expiry is re-checked on
# every hit. Bounded: the least recently used go first (clients renew tokens every few minutes).
_VERIFIED_MAX = 4096


def verify_access_token(token: str, *, audience: str) -> TokenClaims:
    claims = _verified_claims(token, audience)
    if claims.expires_at <= time.time():
        raise InvalidToken("Signature has expired")
    return claims


@cached(LRUCache(maxsize=_VERIFIED_MAX), lock=threading.Lock())
def _verified_claims(token: str, audience: str) -> TokenClaims:
    """Only tokens that verify are kept: a refused one raises, and nothing is cached."""
    return _decode_access_token(token, audience=audience)


def _decode_access_token(token: str, *, audience: str) -> TokenClaims:
    try:
        payload = hs256_jwt.decode(
            token, settings.TOKEN_SIGNING_KEY, audience=audience, issuer=settings.TOKEN_ISSUER, require=("exp", "sub", "aud")
        )
        user_id = int(payload["sub"])
        authz_version = _optional_int(payload.get("av"))
        key_id = _optional_int(payload.get("key"))
    except (ValueError, TypeError) as exc:  # hs256_jwt.InvalidJwt is a ValueError
        raise InvalidToken(str(exc)) from None
    return TokenClaims(
        user_id=user_id,
        audience=audience,
        scopes=tuple(payload.get("scopes") or ()),
        access=tuple(payload.get("access") or ()),
        expires_at=int(payload["exp"]),
        authz_version=authz_version,
        key_id=key_id,
    )


def _optional_int(value) -> int | None:
    return None if value is None else int(value)


def new_nonce() -> str:
    return secrets.token_hex(16)


def _link_signer(purpose: str) -> signing.Signer:
    return signing.Signer(salt=f"accounts.link.{purpose}")


def link_token(*, purpose: str, row_id: int, nonce: str) -> str:
    """`<row id>-<signature>`: the signature covers the purpose (as the salt), the id and the nonce,
    which stays in the database, so the link alone reveals nothing to replay once the nonce rotates."""
    return f"{row_id}-{_link_signer(purpose).signature(f'{row_id}:{nonce}')}"


def parse_link_token(token: str) -> tuple[int, str] | None:
    """Split a link token into (row id, signature); None when it is malformed."""
    row_id, _, signature = (token or "").partition("-")
    if not row_id.isdigit() or not signature:
        return None
    return int(row_id), signature


def link_token_matches(token: str, *, purpose: str, row_id: int, nonce: str) -> bool:
    """True when `token` was signed for this purpose, row and nonce with SECRET_KEY or one of
    SECRET_KEY_FALLBACKS (so rotating the key does not kill links already mailed)."""
    parsed = parse_link_token(token)
    if parsed is None or parsed[0] != row_id:
        return False
    return _unsigns(_link_signer(purpose), f"{row_id}:{nonce}", parsed[1])


def _capability_signer(purpose: str) -> signing.Signer:
    return signing.Signer(salt=f"accounts.capability.{purpose}")


def capability_signature(*, purpose: str, subject: str, expires_at: int) -> str:
    return _capability_signer(purpose).signature(f"{subject}:{int(expires_at)}")


def capability_valid(signature: str, *, purpose: str, subject: str, expires_at: int, now: float | None = None) -> bool:
    """True when `signature` was made for this purpose, subject and expiry, and it has not expired."""
    if int(expires_at) < (time.time() if now is None else now):
        return False
    return _unsigns(_capability_signer(purpose), f"{subject}:{int(expires_at)}", str(signature or ""))


def _unsigns(signer: signing.Signer, value: str, signature: str) -> bool:
    """Does `signature` sign `value` under the signer's key or a fallback key?"""
    try:
        return signer.unsign(f"{value}{signer.sep}{signature}") == value
    except signing.BadSignature:
        return False
