"""Who is asking: a session cookie (after a magic link) or an API token, and what they may do.

Sessions are Starlette's signed-cookie sessions. ``current_user`` is meant to be a router's
dependency; FastAPI caches it per request, so handlers and ``require_role`` that declare it
too reuse the same user instead of asking the database again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg
from fastapi import Depends, HTTPException, Request

from .models import Role, User
from .store import user_by_id, user_by_token

__all__ = ["SESSION_USER_KEY", "current_user", "optional_user", "require_role"]

SESSION_USER_KEY = "uid"


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


def require_role(*roles: Role) -> Callable[..., Awaitable[User]]:
    async def dependency(user: User = Depends(current_user)) -> User:
        if user.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise HTTPException(403, f"{user.role.value} may not do this; needs {allowed}")
        return user

    return dependency
