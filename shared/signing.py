"""Signed one-tap rating links: one rater, one asset, one expiry; any of the five stars.

The signature covers (asset, user, expiry) but not the stars, so the five links of one
email share a signature and the thank-you page can offer "change your mind" links without
asking anyone to sign again. The message is a JSON array with a version tag, so fields can
never run into each other, and the tag keeps these signatures apart from anything else
made with the same secret (sessions and magic links use other constructions and salts).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import quote, urlencode

__all__ = [
    "BAD_SIGNATURE",
    "EXPIRED",
    "rating_link_url",
    "sign_rating_link",
    "verify_rating_link",
]

#: Reasons :func:`verify_rating_link` gives for refusing a link.
BAD_SIGNATURE = "bad signature"
EXPIRED = "expired"

_PURPOSE = "glassboard/rating-link/v1"


def _message(asset_id: str, user_id: int, expires_at: int) -> bytes:
    return json.dumps([_PURPOSE, asset_id, int(user_id), int(expires_at)],
                      separators=(",", ":"), ensure_ascii=True).encode()


def sign_rating_link(secret: str, asset_id: str, user_id: int, expires_at: int) -> str:
    """The link's signature: HMAC-SHA256, URL-safe base64 without padding (43 chars)."""
    digest = hmac.new(secret.encode(), _message(asset_id, user_id, expires_at),
                      hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def verify_rating_link(
    secret: str, asset_id: str, user_id: int, expires_at: int, sig: str, now: int
) -> str | None:
    """None when the link is genuine and unexpired, else why not.

    The signature is checked first, so a forged link never learns whether it would have
    expired. Comparison is constant-time; any string (even non-ASCII) is accepted.
    """
    expected = sign_rating_link(secret, asset_id, user_id, expires_at).encode()
    if not hmac.compare_digest(expected, sig.encode("utf-8", "surrogatepass")):
        return BAD_SIGNATURE
    if now >= expires_at:
        return EXPIRED
    return None


def rating_link_url(
    base_url: str, secret: str, asset_id: str, user_id: int, stars: int, expires_at: int
) -> str:
    """``{base}/r/{asset_id}/{stars}?u={user_id}&exp={expires_at}&sig={sig}``."""
    sig = sign_rating_link(secret, asset_id, user_id, expires_at)
    query = urlencode({"u": user_id, "exp": expires_at, "sig": sig})
    return f"{base_url.rstrip('/')}/r/{quote(asset_id, safe='')}/{stars}?{query}"
