"""HS256 JSON Web Tokens (RFC 7519, signed with HMAC-SHA256 as RFC 7515 defines it): the format of
the bearer tokens accounts.tokens issues and verifies with the one key the server holds.

Not PyJWT: PyJWT imports `cryptography` whenever it is installed (for RSA and EC keys these tokens
never use), and that Rust/OpenSSL extension is ~10 MB of every web worker (docs/performance.md,
Memory). The tokens are byte for byte PyJWT's, and decoding applies the checks PyJWT's `decode`
applied here (tests/accounts/test_hs256_jwt.py runs the two against each other): the header is
exactly the one issued (alg HS256, so "none" or another algorithm never reaches the key), the
signature is compared in constant time before anything in the payload is read, then the required
claims, `exp`, `nbf` and `iat` against the clock, the audience and the issuer.
"""
import base64
import binascii
import hashlib
import hmac
import json
import time
from typing import Any


class InvalidJwt(ValueError):
    pass


def _b64encode(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _b64decode(segment: bytes) -> bytes:
    try:
        return base64.urlsafe_b64decode(segment + b"=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        raise InvalidJwt("Invalid base64 in a token segment") from None


# PyJWT's header for HS256 (sorted keys, no spaces), so tokens issued before this module still verify.
HEADER_SEGMENT = _b64encode(b'{"alg":"HS256","typ":"JWT"}')


def _signature(signing_input: bytes, key: str) -> bytes:
    return hmac.new(key.encode(), signing_input, hashlib.sha256).digest()


def encode(payload: dict[str, Any], key: str) -> str:
    signing_input = HEADER_SEGMENT + b"." + _b64encode(json.dumps(payload, separators=(",", ":")).encode())
    return (signing_input + b"." + _b64encode(_signature(signing_input, key))).decode()


def decode(token: str, key: str, *, audience: str, issuer: str, require: tuple[str, ...] = ()) -> dict[str, Any]:
    """The payload of a token signed with `key`, for `audience` from `issuer`, that has every claim
    in `require` and is valid now; InvalidJwt saying why otherwise."""
    try:
        header_segment, payload_segment, signature_segment = token.encode("ascii").split(b".")
    except (UnicodeEncodeError, ValueError):
        raise InvalidJwt("Not a JWT of three segments") from None
    if header_segment != HEADER_SEGMENT:
        raise InvalidJwt("The specified alg value is not allowed")
    expected = _signature(header_segment + b"." + payload_segment, key)
    if not hmac.compare_digest(expected, _b64decode(signature_segment)):
        raise InvalidJwt("Signature verification failed")
    try:
        payload = json.loads(_b64decode(payload_segment))
    except ValueError:
        raise InvalidJwt("Invalid payload: not JSON") from None
    if not isinstance(payload, dict):
        raise InvalidJwt("Invalid payload string: must be a json object")
    _check_claims(payload, audience=audience, issuer=issuer, require=require)
    return payload


def _check_claims(payload: dict[str, Any], *, audience: str, issuer: str, require: tuple[str, ...]) -> None:
    for claim in require:
        if payload.get(claim) is None:
            raise InvalidJwt(f'Token is missing the "{claim}" claim')
    now = time.time()
    if "iat" in payload and _int_claim(payload, "iat") > now:
        raise InvalidJwt("The token is not yet valid (iat)")
    if "nbf" in payload and _int_claim(payload, "nbf") > now:
        raise InvalidJwt("The token is not yet valid (nbf)")
    if "exp" in payload and _int_claim(payload, "exp") <= now:
        raise InvalidJwt("Signature has expired")
    if payload.get("iss") != issuer:
        raise InvalidJwt("Invalid issuer")
    audiences = payload.get("aud")
    if isinstance(audiences, str):
        audiences = [audiences]
    if not isinstance(audiences, list) or audience not in audiences:
        raise InvalidJwt("Invalid audience")
    if "sub" in payload and not isinstance(payload["sub"], str):
        raise InvalidJwt("Subject must be a string")
    if "jti" in payload and not isinstance(payload["jti"], str):
        raise InvalidJwt("JWT ID must be a string")


def _int_claim(payload: dict[str, Any], claim: str) -> int:
    try:
        return int(payload[claim])
    except (ValueError, TypeError, OverflowError):
        raise InvalidJwt(f"The {claim} claim must be an integer") from None
