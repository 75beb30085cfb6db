"""Each use of GLASSBOARD_SIGNING_SECRET has its own sub-key (shared/signing.py), checked
against the running services: a rating link signed with the secret itself, as links were
before, is refused as forged; one signed with the rating-link sub-key is accepted."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import httpx

from harness.stack import Stack
from shared.signing import rating_link_url


def _signed_with_the_raw_secret(secret: str, asset_id: str, user_id: int, expires: int) -> str:
    message = json.dumps(["glassboard/rating-link/v1", asset_id, user_id, expires],
                         separators=(",", ":")).encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def test_a_rating_link_signed_with_the_secret_itself_is_forged(stack: Stack) -> None:
    await stack.add_asset("pricing-sheet")
    ingest = await stack.ingest()
    secret = stack.settings.signing_secret.get_secret_value()
    expires = int(time.time()) + 3600
    raw_sig = _signed_with_the_raw_secret(secret, "pricing-sheet", 7, expires)
    async with httpx.AsyncClient(base_url=ingest.url) as client:
        refused = await client.get("/r/pricing-sheet/4",
                                   params={"u": 7, "exp": expires, "sig": raw_sig})
        assert refused.status_code == 403 and "not valid" in refused.text
        good = rating_link_url(ingest.url, secret, "pricing-sheet", 7, 4, expires)
        assert (await client.get(good)).status_code == 200
