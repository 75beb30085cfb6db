"""Magic links: signed and timed with itsdangerous, and single use (their nonce is recorded
when it signs someone in).

The emailed link only opens a page (``peek``: checked, not used); the page's form POSTs the
token back, and only that uses it (``redeem``). Mail scanners that fetch every link in a
message therefore cannot burn it, and a GET never signs anyone in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import asyncpg
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from .store import nonce_used, record_nonce

__all__ = ["MAGIC_LINK_MAX_AGE_SECONDS", "MagicLinks"]

#: A magic link works for 15 minutes: long enough to switch to the mail app and back.
MAGIC_LINK_MAX_AGE_SECONDS = 15 * 60


@dataclass(frozen=True)
class MagicLinks:
    #: The magic-link sub-key of GLASSBOARD_SIGNING_SECRET.
    secret: str

    def _serializer(self) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.secret, salt="glassboard-magic-link")

    def token_for(self, email: str) -> str:
        nonce = secrets.token_urlsafe(12)
        return self._serializer().dumps({"email": email.lower(), "nonce": nonce})

    def url_for(self, base_url: str, email: str, next_path: str) -> str:
        """The link to email: the landing page, which signs in only when its form is sent."""
        query = urlencode({"token": self.token_for(email), "next": next_path})
        return f"{base_url.rstrip('/')}/auth/magic?{query}"

    def _payload(self, token: str) -> dict[str, Any]:
        try:
            payload = self._serializer().loads(token, max_age=MAGIC_LINK_MAX_AGE_SECONDS)
        except SignatureExpired as exc:
            raise ValueError("this sign-in link has expired; ask for a new one") from exc
        except BadSignature as exc:
            raise ValueError("this sign-in link is not valid") from exc
        if not isinstance(payload, dict) or not {"email", "nonce"} <= payload.keys():
            raise ValueError("this sign-in link is not valid")
        return payload

    async def peek(self, pool: asyncpg.Pool, token: str) -> str:
        """The email of a valid, unused, unexpired token, leaving it unused; ValueError
        otherwise (worded as ``redeem`` words it)."""
        payload = self._payload(token)
        if await nonce_used(pool, str(payload["nonce"])):
            raise ValueError("this sign-in link was already used; ask for a new one")
        return str(payload["email"])

    async def redeem(self, pool: asyncpg.Pool, token: str) -> str:
        """The email a valid, unused, unexpired token was made for, marking it used;
        ValueError otherwise."""
        payload = self._payload(token)
        if not await record_nonce(pool, str(payload["nonce"])):
            raise ValueError("this sign-in link was already used; ask for a new one")
        return str(payload["email"])

    def limit_key(self, kind: str, value: str) -> str:
        """Who a sign-in request counts against (an address or a client), keyed with this
        secret: the limits' store, local or a shared Redis, never holds addresses or IPs."""
        message = f"sign-in-limit\x00{kind}\x00{value}".encode()
        return hmac.new(self.secret.encode(), message, hashlib.sha256).hexdigest()[:32]
