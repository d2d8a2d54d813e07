"""The bearer tokens' own HS256 JWT codec, checked against PyJWT (the library it replaces at run time):
the same bytes out, and every token PyJWT's decode refused for accounts.tokens still refused."""
import base64
import hashlib
import hmac
import json
import re
import time

import jwt
import pytest

from accounts import hs256_jwt

KEY = "k" * 64
CHECKS = {"audience": "registry.test", "issuer": "registry-portal", "require": ("exp", "sub", "aud")}


def claims(**changes):
    now = int(time.time())
    payload = {"iss": "registry-portal", "sub": "7", "aud": "registry.test", "iat": now, "nbf": now - 5,
               "exp": now + 300, "jti": "abc", "scopes": ["group/ngc:acme"], "access": [], "av": 3, "key": 9}
    payload.update(changes)
    return {name: value for name, value in payload.items() if value is not None}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_it_issues_the_bytes_pyjwt_issues_and_each_reads_the_others_tokens():
    payload = claims()
    ours = hs256_jwt.encode(payload, KEY)

    assert ours == jwt.encode(payload, KEY, algorithm="HS256")
    assert hs256_jwt.decode(jwt.encode(payload, KEY, algorithm="HS256"), KEY, **CHECKS) == payload
    assert jwt.decode(ours, KEY, algorithms=["HS256"], audience="registry.test", issuer="registry-portal") == payload


# Changes to a valid token's claims (made when the test runs: some are relative to the clock).
@pytest.mark.parametrize("changes, reason", [
    (lambda now: {"exp": now - 1}, "Signature has expired"),
    (lambda now: {"nbf": now + 60}, "not yet valid (nbf)"),
    (lambda now: {"iat": now + 60}, "not yet valid (iat)"),
    (lambda now: {"exp": "tomorrow"}, "exp claim must be an integer"),
    (lambda now: {"aud": "another.service"}, "Invalid audience"),
    (lambda now: {"aud": ["another.service", "a third"]}, "Invalid audience"),
    (lambda now: {"iss": "someone-else"}, "Invalid issuer"),
    (lambda now: {"iss": None}, "Invalid issuer"),
    (lambda now: {"exp": None}, 'missing the "exp" claim'),
    (lambda now: {"sub": None}, 'missing the "sub" claim'),
    (lambda now: {"aud": None}, 'missing the "aud" claim'),
    (lambda now: {"sub": 7}, "Subject must be a string"),
])
def test_it_refuses_a_well_signed_token_whose_claims_do_not_hold_as_pyjwt_did(changes, reason):
    payload = claims(**changes(int(time.time())))
    with pytest.raises(jwt.PyJWTError):
        jwt.decode(jwt.encode(payload, KEY, algorithm="HS256"), KEY, algorithms=["HS256"],
                   audience="registry.test", issuer="registry-portal", options={"require": ["exp", "sub", "aud"]})
    with pytest.raises(hs256_jwt.InvalidJwt, match=re.escape(reason)):
        hs256_jwt.decode(hs256_jwt.encode(payload, KEY), KEY, **CHECKS)


def test_it_accepts_an_audience_among_several():
    payload = claims(aud=["another.service", "registry.test"])
    assert hs256_jwt.decode(hs256_jwt.encode(payload, KEY), KEY, **CHECKS)["aud"] == ["another.service", "registry.test"]


def signed(header: bytes, payload: bytes) -> str:
    """A token over these exact segments, correctly signed with the key."""
    signing_input = f"{b64(header)}.{b64(payload)}"
    return f"{signing_input}.{b64(hmac.new(KEY.encode(), signing_input.encode(), hashlib.sha256).digest())}"


def forged_tokens():
    token = hs256_jwt.encode(claims(), KEY)
    header, payload, signature = token.split(".")
    other_payload = b64(json.dumps(claims(sub="1")).encode())
    yield "another key", hs256_jwt.encode(claims(), "not-the-signing-key")
    yield "a changed payload", f"{header}.{other_payload}.{signature}"
    yield "alg none", b64(b'{"alg":"none","typ":"JWT"}') + f".{payload}."
    yield "alg none, signed", signed(b'{"alg":"none","typ":"JWT"}', json.dumps(claims()).encode())
    yield "alg HS512", jwt.encode(claims(), KEY, algorithm="HS512")
    yield "an extra header field", jwt.encode(claims(), KEY, algorithm="HS256", headers={"kid": "x"})
    yield "no signature", f"{header}.{payload}."
    yield "two segments", f"{header}.{payload}"
    yield "four segments", f"{token}.{signature}"
    yield "not ascii", token + "é"
    yield "a payload that is not an object", signed(b'{"alg":"HS256","typ":"JWT"}', b"[1]")
    yield "a payload that is not JSON", signed(b'{"alg":"HS256","typ":"JWT"}', b"{sub")
    yield "garbage", "not a token"


@pytest.mark.parametrize("what, token", list(forged_tokens()))
def test_it_refuses_a_token_it_did_not_sign(what, token):
    with pytest.raises(hs256_jwt.InvalidJwt):
        hs256_jwt.decode(token, KEY, **CHECKS)
