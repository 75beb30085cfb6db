"""Sign-in by magic link and sign-out (open to all), then the signed-in account APIs: me,
users and their sessions (admins), API tokens, and ingest keys (admins)."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from shared.events import utcnow

from ..web.sign_in import magic_link_error, magic_link_page
from .auth import (
    SESSION_ID_KEY,
    current_user,
    require_role,
    require_session,
    token_scopes,
)
from .magic_links import MagicLinks
from .models import IngestKeyIn, MagicLinkIn, Role, Scope, TokenIn, User, UserIn, safe_next
from .sign_in_requests import LinkSender, SignInLimits
from .store import (
    activate_user,
    add_user,
    create_ingest_key,
    create_session,
    deactivate_user,
    end_sessions,
    issue_token,
    list_ingest_keys,
    list_tokens,
    list_users,
    revoke_ingest_key,
    revoke_session,
    revoke_token,
    user_by_email,
    user_by_id,
)

__all__ = ["router"]

router = APIRouter()
account = APIRouter(dependencies=[Depends(current_user)])
admin = require_role(Role.ADMIN)

#: The session entry holding the landing page's check value until its form comes back.
_SIGN_IN_CHECK_KEY = "sign_in_check"
#: The landing page's form is three short fields; anything longer is not from it.
_MAX_FORM_BYTES = 4096
#: Ids are bigserial: a larger one is refused (422) before it reaches PostgreSQL.
_BIGINT = 2**63 - 1
RowId = Annotated[int, Path(ge=1, le=_BIGINT)]


def _is_admin(request: Request, user: User) -> bool:
    """An admin, by a session or by a token with the admin scope."""
    scopes = token_scopes(request)
    return user.role is Role.ADMIN and (scopes is None or Scope.ADMIN in scopes)


# --- sign-in ---------------------------------------------------------------------------

@router.post("/v1/auth/magic-link", status_code=202)
async def request_magic_link(body: MagicLinkIn, request: Request) -> dict[str, str]:
    """Email a sign-in link. The answer, and the time it takes, are the same whether or
    not the address has an account: the mail is looked up and sent in the background, so
    the endpoint cannot be used to find out who works here. Limited per address and per
    client (429 with Retry-After)."""
    state = request.app.state
    if state.mailer is None:
        raise HTTPException(503, "email delivery is not configured, so sign-in links cannot be "
                                 "sent")
    limits: SignInLimits = state.sign_in_limits
    client = request.client.host if request.client else ""
    retry = await limits.retry_after(body.email, client)
    if retry is not None:
        raise HTTPException(429, f"too many sign-in requests; try again in {retry} s",
                            headers={"Retry-After": str(retry)})
    sender: LinkSender = state.link_sender
    if not sender.send_later(body.email, body.next):
        raise HTTPException(503, "too many sign-in emails are waiting; try again in a minute",
                            headers={"Retry-After": "60"})
    return {"detail": "if this address has an account, a sign-in link is on its way"}


def _landing(request: Request, email: str, token: str, next_path: str, notice: str = "",
             status_code: int = 200) -> Response:
    """The landing page with a new check value, kept in the session until its form returns."""
    check = secrets.token_urlsafe(16)
    request.session[_SIGN_IN_CHECK_KEY] = check
    return magic_link_page(request, email=email, token=token, next_path=next_path, csrf=check,
                           notice=notice, status_code=status_code)


@router.get("/auth/magic", include_in_schema=False)
async def open_magic_link(request: Request, token: str = "", next: str = "/app/") -> Response:
    """What the emailed link opens: the page that signs in when its button is pressed. It
    checks the link but does not use it, so a mail scanner's GET burns nothing."""
    links: MagicLinks = request.app.state.magic_links
    try:
        email = await links.peek(request.app.state.pool, token)
    except ValueError as exc:
        return magic_link_error(request, str(exc))
    return _landing(request, email, token, safe_next(next))


async def _form(request: Request) -> dict[str, str]:
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > _MAX_FORM_BYTES:
            raise HTTPException(413, "this is not the sign-in page's form")
    try:
        fields = parse_qs(body.decode(), max_num_fields=5)
    except (UnicodeDecodeError, ValueError) as exc:
        raise HTTPException(400, "this is not the sign-in page's form") from exc
    return {key: values[0] for key, values in fields.items()}


@router.post("/auth/magic", include_in_schema=False)
async def redeem_magic_link(request: Request) -> Response:
    """The landing page's button: sign in, in a new session, and go on to ``next``. The
    form must carry the check value this browser's session got with the page; another
    site's form cannot (the session cookie is SameSite), which stops login CSRF."""
    form = await _form(request)
    token, next_path = form.get("token", ""), safe_next(form.get("next"))
    state = request.app.state
    expected = request.session.pop(_SIGN_IN_CHECK_KEY, None)
    if not (isinstance(expected, str)
            and hmac.compare_digest(expected.encode(), form.get("csrf", "").encode())):
        links: MagicLinks = state.magic_links
        try:
            email = await links.peek(state.pool, token)
        except ValueError as exc:
            return magic_link_error(request, str(exc))
        return _landing(request, email, token, next_path, status_code=403, notice=(
            "This sign-in did not come from this page. If you meant to sign in as this "
            "address, press Sign in."))
    try:
        email = await state.magic_links.redeem(state.pool, token)
    except ValueError as exc:
        return magic_link_error(request, str(exc))
    user = await user_by_email(state.pool, email)
    if user is None:
        return magic_link_error(request, "this account no longer exists")
    if not user.active:
        return magic_link_error(request, "this account is deactivated; ask an admin")
    # A new session id at every sign-in (no fixation); the one this browser had ends.
    old = request.session.get(SESSION_ID_KEY)
    if isinstance(old, str):
        await revoke_session(state.pool, old)
    request.session.clear()
    request.session[SESSION_ID_KEY] = await create_session(
        state.pool, user, state.settings.session_max_age_seconds)
    return RedirectResponse(next_path, status_code=303)


@router.post("/v1/auth/logout", status_code=204)
async def logout(request: Request) -> None:
    """End this session on the server too: a copy of its cookie stops working."""
    session_id = request.session.get(SESSION_ID_KEY)
    if isinstance(session_id, str):
        await revoke_session(request.app.state.pool, session_id)
    request.session.clear()


# --- the account -----------------------------------------------------------------------

@account.get("/v1/me")
async def me(user: User = Depends(current_user)) -> dict[str, object]:
    return user.public()


@account.post("/v1/users", status_code=201)
async def create_user(body: UserIn, request: Request,
                      _: User = Depends(admin)) -> dict[str, object]:
    """Create a user, or change an existing one's role (and name). A deactivated user
    stays deactivated: activate them apart."""
    return (await add_user(request.app.state.pool, body.email, body.role, body.name)).public()


@account.get("/v1/users")
async def users(request: Request, _: User = Depends(admin)) -> dict[str, Any]:
    return {"users": [u.public() for u in await list_users(request.app.state.pool)]}


@account.post("/v1/users/{user_id}/deactivate")
async def deactivate(request: Request, user_id: RowId,
                     caller: User = Depends(admin)) -> dict[str, object]:
    """Deactivate a user: no more sign-in, and their sessions end and their tokens are
    revoked at once (activating them again restores neither)."""
    if user_id == caller.id:
        raise HTTPException(409, "you cannot deactivate yourself; ask another admin")
    return _found(await deactivate_user(request.app.state.pool, user_id), user_id)


@account.post("/v1/users/{user_id}/activate")
async def activate(request: Request, user_id: RowId,
                   _: User = Depends(admin)) -> dict[str, object]:
    return _found(await activate_user(request.app.state.pool, user_id), user_id)


def _found(user: User | None, user_id: int) -> dict[str, object]:
    if user is None:
        raise HTTPException(404, f"no user {user_id}")
    return user.public()


@account.delete("/v1/users/{user_id}/sessions")
async def end_user_sessions(request: Request, user_id: RowId,
                            user: User = Depends(current_user)) -> dict[str, int]:
    """Sign a user out everywhere: every session of theirs ends (their own, or anyone's for
    an admin). API tokens are not sessions: revoke them with DELETE /v1/tokens/{id}."""
    if user_id != user.id and not _is_admin(request, user):
        raise HTTPException(403, "only admins may end other users' sessions")
    if await user_by_id(request.app.state.pool, user_id) is None:
        raise HTTPException(404, f"no user {user_id}")
    ended = await end_sessions(request.app.state.pool, user_id)
    if user_id == user.id:
        request.session.clear()
    return {"ended": ended}


# --- API tokens ------------------------------------------------------------------------

@account.post("/v1/tokens", status_code=201)
async def new_token(body: TokenIn, request: Request,
                    user: User = Depends(require_session)) -> dict[str, object]:
    """An API token for an integration, acting as the signed-in user within its scopes,
    until it expires or is revoked. The token is shown once. Sessions only: a token cannot
    make tokens (403)."""
    max_days = request.app.state.settings.api_token_max_days
    now = utcnow()
    if body.expires_at is not None and not now < body.expires_at <= now + timedelta(max_days):
        raise HTTPException(422, f"expires_at must be in the future and at most {max_days} "
                                 "days from now")
    if Scope.ADMIN in body.scopes and user.role is not Role.ADMIN:
        raise HTTPException(403, "only admins may make tokens with the admin scope")
    token, secret = await issue_token(request.app.state.pool, user, body.name,
                                      tuple(body.scopes), body.expires_at)
    return {**token.public(), "token": secret}


@account.get("/v1/tokens")
async def tokens(request: Request, user_id: int | None = Query(None, ge=1, le=_BIGINT),
                 user: User = Depends(current_user)) -> dict[str, Any]:
    """The caller's tokens (revoked and expired ones too), or, for an admin, ``user_id``'s."""
    if user_id is not None and user_id != user.id and not _is_admin(request, user):
        raise HTTPException(403, "only admins may list other users' tokens")
    owner = user.id if user_id is None else user_id
    return {"tokens": [t.public() for t in await list_tokens(request.app.state.pool, owner)]}


@account.delete("/v1/tokens/{token_id}")
async def delete_token(request: Request, token_id: RowId,
                       user: User = Depends(current_user)) -> dict[str, object]:
    """Revoke a token: the caller's own (a token may revoke itself), or any, for an admin.
    It stops working at once."""
    owner = None if _is_admin(request, user) else user.id
    token = await revoke_token(request.app.state.pool, token_id, owner)
    if token is None:
        raise HTTPException(404, f"no token {token_id} of yours")
    return token.public()


# --- ingest keys -----------------------------------------------------------------------

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
async def delete_ingest_key(request: Request, key_id: RowId,
                            _: User = Depends(admin)) -> dict[str, object]:
    """Revoke a key. Ingest refuses it (403) within its key refresh interval."""
    key = await revoke_ingest_key(request.app.state.pool, key_id)
    if key is None:
        raise HTTPException(404, f"no ingest key {key_id}")
    return key.public()


router.include_router(account)
