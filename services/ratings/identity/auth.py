"""Who is asking: a session cookie (after a magic link) or an API token, and what they may do.

The session cookie (Starlette's, signed with the "session" sub-key) holds only the id of a
row in ``sessions``; every request looks it up, so logout, an admin ending the sessions,
or deactivating the user stops a copied cookie at once. A token is looked up the same way
and may do only what its scopes allow: ``read`` for GET and HEAD, ``write`` for the rest,
``admin`` for admin-only endpoints. A session may do what its user's role allows.

``current_user`` is meant to be a router's dependency; FastAPI caches it per request, so
handlers and ``require_role`` that declare it too reuse the same user instead of asking the
database again. ``session_user`` asks again: long-lived responses (score streams) call it
to find out whether their session or token still works.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg
from fastapi import Depends, HTTPException, Request

from .models import Role, Scope, User
from .store import token_holder, user_by_session

__all__ = [
    "SESSION_ID_KEY",
    "current_user",
    "optional_user",
    "require_role",
    "require_scope",
    "require_session",
    "session_user",
    "token_scopes",
]

#: The session cookie's one entry: the id of the session row (its hash is the row's key).
SESSION_ID_KEY = "sid"
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


async def _token_user(pool: asyncpg.Pool, token: str) -> tuple[User, frozenset[Scope]] | str:
    """The holder of a working token and its scopes, or why it does not work."""
    held = await token_holder(pool, token)
    if held is None:
        return "invalid API token"
    user, api_token, expired = held
    if api_token.revoked_at is not None:
        return "this API token was revoked"
    if expired:
        return "this API token has expired"
    if not user.active:
        return "this account is deactivated"
    return user, frozenset(api_token.scopes)


async def _session_user(request: Request) -> User | None:
    session_id = request.session.get(SESSION_ID_KEY)
    if not isinstance(session_id, str):
        return None
    return await user_by_session(request.app.state.pool, session_id)


async def optional_user(request: Request) -> User | None:
    """The user of the request's token (401 when it does not work) or session (None when
    there is none, or it ended: its cookie is then dropped)."""
    token = _bearer(request)
    if token is not None:
        found = await _token_user(request.app.state.pool, token)
        if isinstance(found, str):
            raise HTTPException(401, found)
        request.state.token_scopes = found[1]
        return found[0]
    user = await _session_user(request)
    if user is None and SESSION_ID_KEY in request.session:
        request.session.clear()
    return user


async def session_user(request: Request) -> User | None:
    """Whether the request's session or token still works, asked of the database now (it
    may have been revoked, expired or its user deactivated since the request began): its
    user, or None. Changes no cookie, so it may run after the response has started."""
    token = _bearer(request)
    if token is not None:
        found = await _token_user(request.app.state.pool, token)
        return None if isinstance(found, str) else found[0]
    return await _session_user(request)


def token_scopes(request: Request) -> frozenset[Scope] | None:
    """The scopes of the request's API token; None when it came with a session."""
    scopes: frozenset[Scope] | None = getattr(request.state, "token_scopes", None)
    return scopes


def require_scope(request: Request, scope: Scope) -> None:
    """403 when the request came with a token that lacks ``scope`` (sessions have all)."""
    scopes = token_scopes(request)
    if scopes is not None and scope not in scopes:
        raise HTTPException(403, f"this API token lacks the {scope.value} scope")


async def current_user(request: Request) -> User:
    user = await optional_user(request)
    if user is None:
        raise HTTPException(401, "sign in first (magic link) or send an API token")
    require_scope(request, Scope.READ if request.method in _READ_METHODS else Scope.WRITE)
    return user


def require_role(*roles: Role) -> Callable[..., Awaitable[User]]:
    """A dependency: the user, if their role is one of ``roles``. Where only admins may go,
    a token needs the admin scope too."""

    async def dependency(request: Request, user: User = Depends(current_user)) -> User:
        if user.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise HTTPException(403, f"{user.role.value} may not do this; needs {allowed}")
        if set(roles) == {Role.ADMIN}:
            require_scope(request, Scope.ADMIN)
        return user

    return dependency


async def require_session(request: Request, user: User = Depends(current_user)) -> User:
    """The user, if signed in with a session: a token cannot make tokens, so a leaked one
    cannot make itself a successor that outlives its revocation."""
    if token_scopes(request) is not None:
        raise HTTPException(403, "an API token cannot create API tokens; sign in and "
                                 "create it from the session")
    return user
