"""E-mailed link tokens and capability signatures are django.core.signing signatures: they survive a
key rotation while the old key is listed in SECRET_KEY_FALLBACKS, and nothing else passes."""
from accounts import tokens

OLD_KEY = "old-secret-key-" + "x" * 40
NEW_KEY = "new-secret-key-" + "y" * 40


def test_a_link_signed_with_the_old_key_verifies_while_that_key_is_a_fallback(settings):
    settings.SECRET_KEY = OLD_KEY
    link = tokens.link_token(purpose="invitation", row_id=7, nonce="n1")
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_KEY, [OLD_KEY]
    assert tokens.link_token_matches(link, purpose="invitation", row_id=7, nonce="n1")
    settings.SECRET_KEY_FALLBACKS = []
    assert not tokens.link_token_matches(link, purpose="invitation", row_id=7, nonce="n1")


def test_a_tampered_or_repurposed_link_is_refused():
    link = tokens.link_token(purpose="invitation", row_id=7, nonce="n1")
    assert tokens.parse_link_token(link)[0] == 7
    assert tokens.link_token_matches(link, purpose="invitation", row_id=7, nonce="n1")
    assert not tokens.link_token_matches(link, purpose="verify-email", row_id=7, nonce="n1")
    assert not tokens.link_token_matches(link, purpose="invitation", row_id=7, nonce="rotated")
    assert not tokens.link_token_matches(link.replace("7-", "8-", 1), purpose="invitation", row_id=8, nonce="n1")
    assert not tokens.link_token_matches(link[:-1] + ("A" if link[-1] != "A" else "B"), purpose="invitation", row_id=7, nonce="n1")
    assert tokens.parse_link_token("seven-abc") is None


def test_a_capability_survives_rotation_but_not_expiry_or_tampering(settings):
    settings.SECRET_KEY = OLD_KEY
    signature = tokens.capability_signature(purpose="download-file", subject="3:4", expires_at=2000)
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_KEY, [OLD_KEY]
    assert tokens.capability_valid(signature, purpose="download-file", subject="3:4", expires_at=2000, now=1000)
    assert not tokens.capability_valid(signature, purpose="download-file", subject="3:4", expires_at=2000, now=2001)
    assert not tokens.capability_valid(signature, purpose="download-file", subject="3:5", expires_at=2000, now=1000)
    assert not tokens.capability_valid(signature, purpose="upload-part", subject="3:4", expires_at=2000, now=1000)
    assert not tokens.capability_valid(signature, purpose="download-file", subject="3:4", expires_at=2001, now=1000)
    assert not tokens.capability_valid("0" + signature, purpose="download-file", subject="3:4", expires_at=2000, now=1000)
