"""One sub-key per purpose of the signing secret, and one-tap rating links' signatures
(pure): verified until they expire, broken by any tampering, and the URL's shape."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

import pytest

from shared.signing import (
    BAD_SIGNATURE,
    EXPIRED,
    PURPOSES,
    derive_key,
    rating_link_url,
    sign_rating_link,
    verify_rating_link,
)

SECRET = "test-secret"
NOW = 1_700_000_000


def test_a_signed_link_verifies_until_it_expires() -> None:
    sig = sign_rating_link(SECRET, "deck", 7, NOW + 60)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", sig)
    assert verify_rating_link(SECRET, "deck", 7, NOW + 60, sig, now=NOW) is None
    assert verify_rating_link(SECRET, "deck", 7, NOW + 60, sig, now=NOW + 59) is None
    assert verify_rating_link(SECRET, "deck", 7, NOW + 60, sig, now=NOW + 60) == EXPIRED


@pytest.mark.parametrize("asset_id, user_id, expires_at", [
    ("deck2", 7, NOW + 60),      # another asset
    ("deck", 8, NOW + 60),       # another rater
    ("deck", 7, NOW + 6000),     # a later expiry
    ("deck", 70, NOW + 60),      # digits moved between fields
    ("deck7", 0, NOW + 60),
])
def test_tampering_with_asset_user_or_expiry_breaks_the_signature(
    asset_id: str, user_id: int, expires_at: int
) -> None:
    sig = sign_rating_link(SECRET, "deck", 7, NOW + 60)
    assert verify_rating_link(SECRET, asset_id, user_id, expires_at, sig, now=NOW) == BAD_SIGNATURE


def test_forged_signatures_are_refused_before_expiry_is_told() -> None:
    sig = sign_rating_link(SECRET, "deck", 7, NOW - 1)
    assert verify_rating_link("other-secret", "deck", 7, NOW - 1, sig, now=NOW) == BAD_SIGNATURE
    flipped = ("B" if sig[0] == "A" else "A") + sig[1:]
    for bad in (flipped, "", sig[:-1], sig + "A", "é" * 43, sig.upper() if sig != sig.upper() else "x"):
        assert verify_rating_link(SECRET, "deck", 7, NOW - 1, bad, now=NOW) == BAD_SIGNATURE
    assert verify_rating_link(SECRET, "deck", 7, NOW - 1, sig, now=NOW) == EXPIRED


def test_link_url_shape_and_stars_are_not_signed() -> None:
    urls = [rating_link_url("https://t.example.com/", SECRET, "deck", 7, n, NOW) for n in (1, 5)]
    sig = sign_rating_link(SECRET, "deck", 7, NOW)
    assert urls[0] == f"https://t.example.com/r/deck/1?u=7&exp={NOW}&sig={sig}"
    assert urls[1] == f"https://t.example.com/r/deck/5?u=7&exp={NOW}&sig={sig}"


def test_each_purpose_has_its_own_sub_key_and_none_is_the_secret() -> None:
    keys = {purpose: derive_key(SECRET, purpose) for purpose in PURPOSES}
    assert set(PURPOSES) >= {"session", "magic-link", "rating-link", "rating-command"}
    assert len(set(keys.values())) == len(PURPOSES)
    assert all(re.fullmatch(r"[0-9a-f]{64}", key) for key in keys.values())
    assert SECRET not in keys.values()
    assert derive_key(SECRET, "session") == derive_key(SECRET, "session")
    assert derive_key("other-secret", "session") != keys["session"]
    with pytest.raises(ValueError, match="unknown signing purpose"):
        derive_key(SECRET, "sessions")  # type: ignore[arg-type]


def test_a_rating_link_is_signed_with_its_sub_key_not_the_secret() -> None:
    message = f'["glassboard/rating-link/v1","deck",7,{NOW}]'.encode()
    key = bytes.fromhex(derive_key(SECRET, "rating-link"))
    expected = base64.urlsafe_b64encode(hmac.new(key, message, hashlib.sha256).digest())
    assert sign_rating_link(SECRET, "deck", 7, NOW) == expected.rstrip(b"=").decode()
    raw = hmac.new(SECRET.encode(), message, hashlib.sha256).digest()
    forged = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    assert verify_rating_link(SECRET, "deck", 7, NOW, forged, now=NOW - 1) == BAD_SIGNATURE
