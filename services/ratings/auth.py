"""Who is asking: a session cookie (after a magic link) or an API token, and what they may do.

Magic links are signed and timed with itsdangerous, and single use (their nonce is
recorded when it signs someone in). Sessions are Starlette's signed-cookie sessions.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
from fastapi import HTTPException, Request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from .users import Role, User, user_by_id, user_by_token

__all__ = [
    "MAGIC_LINK_MAX_AGE_SECONDS",
    "MagicLinks",
    "current_user",
    "optional_user",
    "require_role",
]

#: A magic link works for 15 minutes: long enough to switch to the mail app and back.
MAGIC_LINK_MAX_AGE_SECONDS = 15 * 60
SESSION_USER_KEY = "uid"

_RECORD_NONCE = "INSERT INTO magic_links_used (nonce) VALUES ($1) ON CONFLICT DO NOTHING RETURNING nonce"


@dataclass(frozen=True)
class MagicLinks:
    secret: str

    def _serializer(self) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.secret, salt="glassboard-magic-link")

    def token_for(self, email: str) -> str:
        return self._serializer().dumps({"email": email.lower(), "nonce": secrets.token_urlsafe(12)})

    async def redeem(self, pool: asyncpg.Pool, token: str) -> str:
        """The email a valid, unused, unexpired token was made for; ValueError otherwise."""
        try:
            payload = self._serializer().loads(token, max_age=MAGIC_LINK_MAX_AGE_SECONDS)
        except SignatureExpired as exc:
            raise ValueError("this sign-in link has expired; ask for a new one") from exc
        except BadSignature as exc:
            raise ValueError("this sign-in link is not valid") from exc
        if await pool.fetchval(_RECORD_NONCE, payload["nonce"]) is None:
            raise ValueError("this sign-in link was already used; ask for a new one")
        return str(payload["email"])


async def optional_user(request: Request) -> User | None:
    pool: asyncpg.Pool = request.app.state.pool
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        user = await user_by_token(pool, header[7:].strip())
        if user is None:
            raise HTTPException(401, "invalid API token")
        return user
    user_id = request.session.get(SESSION_USER_KEY)
    return await user_by_id(pool, int(user_id)) if user_id else None


async def current_user(request: Request) -> User:
    user = await optional_user(request)
    if user is None:
        raise HTTPException(401, "sign in first (magic link) or send an API token")
    return user


def require_role(*roles: Role) -> Callable[[Request], Awaitable[User]]:
    async def dependency(request: Request) -> User:
        user = await current_user(request)
        if user.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise HTTPException(403, f"{user.role.value} may not do this; needs {allowed}")
        return user

    return dependency
