"""Secrets the identity layer hands out: API keys, signed bearer tokens, e-mailed link tokens.

- API keys: random, shown once, stored as sha256 with a short visible prefix.
- Bearer tokens (/token): HS256 JWTs with `exp`, the audience (service), the granted scopes, and
  the user's authz version and API key id at issue (`av`, `key`: writes compare them with the
  current ones, docs/permissions.md). Verifying one is an HMAC, so per-request auth stays cheap.
- Link tokens (invitations, e-mail verification): "<id>-<hmac>" over the row id and a nonce kept
  in the database, so neither the database nor the mail log alone can forge or replay a link.
- Capability signatures (multipart part URLs, file download URLs, used without Authorization):
  an HMAC over a purpose, the subject it is bound to (an upload id and part number, a file id and
  user) and an expiry time, so a URL works only for that one thing and only until it expires.
"""
import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass, field

import jwt
from django.conf import settings

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
    return jwt.encode(payload, settings.TOKEN_SIGNING_KEY, algorithm="HS256"), ttl


class InvalidToken(Exception):
    pass


# Tokens already verified in this process, so a client's next request costs a dict lookup
# instead of a JWT decode (perf: ~0.25 ms of a ~1 ms registry manifest GET). Keyed by the
# whole signed string, so a hit is exactly the token that was checked; expiry is re-checked on
# every hit. Bounded: cleared when full (clients renew tokens every few minutes anyway).
_VERIFIED_MAX = 4096
_verified: dict[tuple[str, str], TokenClaims] = {}


def verify_access_token(token: str, *, audience: str) -> TokenClaims:
    key = (token, audience)
    claims = _verified.get(key)
    if claims is not None:
        if claims.expires_at > time.time():
            return claims
        _verified.pop(key, None)
        raise InvalidToken("Signature has expired")
    claims = _decode_access_token(token, audience=audience)
    if len(_verified) >= _VERIFIED_MAX:
        _verified.clear()
    _verified[key] = claims
    return claims


def _decode_access_token(token: str, *, audience: str) -> TokenClaims:
    try:
        payload = jwt.decode(
            token,
            settings.TOKEN_SIGNING_KEY,
            algorithms=["HS256"],
            audience=audience,
            issuer=settings.TOKEN_ISSUER,
            options={"require": ["exp", "sub", "aud"]},
        )
        user_id = int(payload["sub"])
        authz_version = _optional_int(payload.get("av"))
        key_id = _optional_int(payload.get("key"))
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
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


def link_token(*, purpose: str, row_id: int, nonce: str) -> str:
    mac = hmac.new(settings.SECRET_KEY.encode(), f"{purpose}:{row_id}:{nonce}".encode(), hashlib.sha256)
    return f"{row_id}-{mac.hexdigest()[:40]}"


def parse_link_token(token: str) -> tuple[int, str] | None:
    """Split a link token into (row id, mac); None when it is malformed."""
    row_id, _, mac = (token or "").partition("-")
    if not row_id.isdigit() or len(mac) != 40:
        return None
    return int(row_id), mac


def link_token_matches(token: str, *, purpose: str, row_id: int, nonce: str) -> bool:
    return hmac.compare_digest(token, link_token(purpose=purpose, row_id=row_id, nonce=nonce))


def capability_signature(*, purpose: str, subject: str, expires_at: int) -> str:
    key = hashlib.sha256(b"capability:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, f"{purpose}:{subject}:{int(expires_at)}".encode(), hashlib.sha256).hexdigest()


def capability_valid(signature: str, *, purpose: str, subject: str, expires_at: int, now: float | None = None) -> bool:
    """True when `signature` was made for this purpose, subject and expiry, and it has not expired."""
    if int(expires_at) < (time.time() if now is None else now):
        return False
    expected = capability_signature(purpose=purpose, subject=subject, expires_at=expires_at)
    return hmac.compare_digest(str(signature or ""), expected)
