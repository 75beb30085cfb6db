"""Magic links: signed and timed with itsdangerous, and single use (their nonce is recorded
when it signs someone in)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import asyncpg
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from .store import record_nonce

__all__ = ["MAGIC_LINK_MAX_AGE_SECONDS", "MagicLinks"]

#: A magic link works for 15 minutes: long enough to switch to the mail app and back.
MAGIC_LINK_MAX_AGE_SECONDS = 15 * 60


@dataclass(frozen=True)
class MagicLinks:
    secret: str

    def _serializer(self) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.secret, salt="glassboard-magic-link")

    def token_for(self, email: str) -> str:
        nonce = secrets.token_urlsafe(12)
        return self._serializer().dumps({"email": email.lower(), "nonce": nonce})

    async def redeem(self, pool: asyncpg.Pool, token: str) -> str:
        """The email a valid, unused, unexpired token was made for; ValueError otherwise."""
        try:
            payload = self._serializer().loads(token, max_age=MAGIC_LINK_MAX_AGE_SECONDS)
        except SignatureExpired as exc:
            raise ValueError("this sign-in link has expired; ask for a new one") from exc
        except BadSignature as exc:
            raise ValueError("this sign-in link is not valid") from exc
        if not await record_nonce(pool, payload["nonce"]):
            raise ValueError("this sign-in link was already used; ask for a new one")
        return str(payload["email"])
