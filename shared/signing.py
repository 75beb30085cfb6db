"""One sub-key per purpose of ``GLASSBOARD_SIGNING_SECRET``, and the signed one-tap rating
links.

Nothing signs with the secret itself: each purpose (sessions, magic links, rating links,
rating commands, share links) takes ``derive_key(secret, purpose)``, so a signature made
for one purpose never verifies as another, whatever the constructions have in common.

A rating link's signature covers (asset, user, expiry) but not the stars, so the five
links of one email share a signature and the thank-you page can offer "change your mind"
links without asking anyone to sign again. The message is a JSON array with a version
tag, so fields can never run into each other.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Literal, get_args
from urllib.parse import quote, urlencode

__all__ = [
    "BAD_SIGNATURE",
    "EXPIRED",
    "PURPOSES",
    "Purpose",
    "derive_key",
    "rating_link_url",
    "sign_rating_link",
    "verify_rating_link",
]

#: Reasons :func:`verify_rating_link` gives for refusing a link.
BAD_SIGNATURE = "bad signature"
EXPIRED = "expired"

#: Every use of the signing secret. "rating-command" is ingest's signature of the rating
#: commands it publishes (shared/command_signing.py); "share-link" is reserved for the
#: share links to come.
Purpose = Literal["session", "magic-link", "rating-link", "rating-command", "share-link"]
PURPOSES: tuple[Purpose, ...] = get_args(Purpose)

_PURPOSE = "glassboard/rating-link/v1"


def derive_key(secret: str, purpose: Purpose) -> str:
    """The sub-key of one purpose: HMAC-SHA256 keyed by the secret over
    ``glassboard/<purpose>/v1``, as 64 hex characters (a str, which Starlette's sessions
    and itsdangerous take as they are; ``bytes.fromhex`` gives the raw 32 bytes)."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown signing purpose {purpose!r}")
    label = f"glassboard/{purpose}/v1".encode()
    return hmac.new(secret.encode(), label, hashlib.sha256).hexdigest()


def _message(asset_id: str, user_id: int, expires_at: int) -> bytes:
    return json.dumps([_PURPOSE, asset_id, int(user_id), int(expires_at)],
                      separators=(",", ":"), ensure_ascii=True).encode()


def sign_rating_link(secret: str, asset_id: str, user_id: int, expires_at: int) -> str:
    """The link's signature: HMAC-SHA256 with the "rating-link" sub-key of ``secret`` (the
    signing secret itself), URL-safe base64 without padding (43 chars)."""
    key = bytes.fromhex(derive_key(secret, "rating-link"))
    digest = hmac.new(key, _message(asset_id, user_id, expires_at), hashlib.sha256).digest()
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
