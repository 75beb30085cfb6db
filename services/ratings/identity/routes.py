"""Sign-in by magic link and sign-out (open to all), then the signed-in account APIs: me,
users (admins), API tokens, and ingest keys (admins)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse

from ..web.sign_in import magic_link_error
from .auth import SESSION_USER_KEY, current_user, require_role
from .magic_links import MagicLinks
from .models import IngestKeyIn, MagicLinkIn, Role, TokenIn, User, UserIn
from .store import (
    add_user,
    create_ingest_key,
    create_token,
    list_ingest_keys,
    list_users,
    revoke_ingest_key,
    user_by_email,
)

__all__ = ["router"]

router = APIRouter()
account = APIRouter(dependencies=[Depends(current_user)])
admin = require_role(Role.ADMIN)


@router.post("/v1/auth/magic-link", status_code=202)
async def request_magic_link(body: MagicLinkIn, request: Request) -> dict[str, str]:
    """Email a sign-in link. The answer is the same whether or not the address has an
    account, so the endpoint cannot be used to find out who works here."""
    state = request.app.state
    if state.mailer is None:
        raise HTTPException(503, "email delivery is not configured, so sign-in links cannot be "
                                 "sent")
    user = await user_by_email(state.pool, body.email)
    if user is not None:
        links: MagicLinks = state.magic_links
        url = (f"{state.public_url}/auth/magic?token={links.token_for(user.email)}"
               f"&next={quote(body.next)}")
        await state.mailer.send(
            user.email, "Your Glassboard sign-in link",
            f"Open this link to sign in (valid 15 minutes, once):\n{url}",
        )
    return {"detail": "if this address has an account, a sign-in link is on its way"}


@router.get("/auth/magic", include_in_schema=False)
async def redeem_magic_link(token: str, request: Request, next: str = "/app/") -> Any:
    try:
        email = await request.app.state.magic_links.redeem(request.app.state.pool, token)
    except ValueError as exc:
        return magic_link_error(request, str(exc))
    user = await user_by_email(request.app.state.pool, email)
    if user is None:
        raise HTTPException(400, "this account no longer exists")
    request.session[SESSION_USER_KEY] = user.id
    safe_next = next if next.startswith("/") and not next.startswith("//") else "/app/"
    return RedirectResponse(safe_next, status_code=303)


@router.post("/v1/auth/logout", status_code=204)
async def logout(request: Request) -> None:
    request.session.clear()


@account.get("/v1/me")
async def me(user: User = Depends(current_user)) -> dict[str, object]:
    return user.public()


@account.post("/v1/users", status_code=201)
async def create_user(body: UserIn, request: Request,
                      _: User = Depends(admin)) -> dict[str, object]:
    return (await add_user(request.app.state.pool, body.email, body.role, body.name)).public()


@account.get("/v1/users")
async def users(request: Request, _: User = Depends(admin)) -> dict[str, Any]:
    return {"users": [u.public() for u in await list_users(request.app.state.pool)]}


@account.post("/v1/tokens", status_code=201)
async def new_token(body: TokenIn, request: Request,
                    user: User = Depends(current_user)) -> dict[str, str]:
    """An API token for integrations, acting as the signed-in user. Shown once."""
    return {"token": await create_token(request.app.state.pool, user, body.name)}


@account.post("/v1/ingest-keys", status_code=201)
async def new_ingest_key(body: IngestKeyIn, request: Request,
                         user: User = Depends(admin)) -> dict[str, object]:
    """A key for a server-side integration to send events to ingest. The token is shown
    once; only its hash is kept."""
    key, token = await create_ingest_key(request.app.state.pool, body.name,
                                         list(dict.fromkeys(body.scopes)), body.asset_ids, user)
    return {**key.public(), "token": token}


@account.get("/v1/ingest-keys")
async def ingest_keys(request: Request, _: User = Depends(admin)) -> dict[str, Any]:
    return {"ingest_keys": [k.public() for k in await list_ingest_keys(request.app.state.pool)]}


@account.delete("/v1/ingest-keys/{key_id}")
async def delete_ingest_key(key_id: int, request: Request,
                            _: User = Depends(admin)) -> dict[str, object]:
    """Revoke a key. Ingest refuses it (403) within its key refresh interval."""
    key = await revoke_ingest_key(request.app.state.pool, key_id)
    if key is None:
        raise HTTPException(404, f"no ingest key {key_id}")
    return key.public()


router.include_router(account)
