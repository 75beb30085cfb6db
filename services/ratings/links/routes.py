"""The share-links API: create links (one or in bulk), my links and their visits, revoke,
the roll-up by account, the live feed of visits, erasing a recipient, an asset's share
usage, how each recipient read it, the share-alert settings, and who manages whom.

A recipient's identity and visits are shown only to the link's creator, the creator's
manager and admins: for anyone else the link does not exist (404). An asset's share usage
is aggregates only, for everyone signed in.
"""

from __future__ import annotations

import html
import re
import statistics
from collections.abc import AsyncIterator
from datetime import datetime, time, timezone
from typing import Annotated, Any, Literal, cast

import asyncpg
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from sse_starlette import ServerSentEvent

from shared.events import ASSET_ID_PATTERN, utcnow
from shared.share_links import LINK_ID_PATTERN

from ..analytics.usage import window_start
from ..catalog.routes import unknown_asset
from ..catalog.store import fetch_asset
from ..identity.auth import current_user, require_role, session_user, token_scopes
from ..identity.models import Role, Scope, User
from ..reads.aggregator import fetch_link_totals, fetch_link_visits, fetch_recipient_readings
from ..scores.streams import SIGNED_OUT, HeldStream, batches_while_signed_in
from . import store
from .hub import LinkHub
from .models import AlertPreferencesIn, EraseIn, ManagerIn, ShareLinkIn, ShareLinksIn

__all__ = ["router"]

router = APIRouter(dependencies=[Depends(current_user)])
#: Executives read; everyone else sends content.
sender = require_role(Role.SALES, Role.MARKETING, Role.MANAGER, Role.ADMIN)
admin = require_role(Role.ADMIN)
#: Anything in a link's place that is not a link id is no link either (404, not 422).
LinkIdPath = Annotated[str, Path(max_length=64)]
AssetQuery = Query(None, pattern=ASSET_ID_PATTERN, description="Only this asset's links")
MineQuery = Query(False, description="Only the links I made (not my reps', nor others')")


def _sees_all(request: Request, user: User) -> bool:
    """An admin, by a session or by a token with the admin scope, sees every link."""
    scopes = token_scopes(request)
    return user.role is Role.ADMIN and (scopes is None or Scope.ADMIN in scopes)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _status(link: asyncpg.Record) -> str:
    if link["revoked_at"] is not None:
        return "revoked"
    if link["expires_at"] is not None and link["expires_at"] <= utcnow():
        return "expired"
    return "active"


def _account(link: asyncpg.Record) -> str | None:
    """The company, else the recipient's email domain; None once the recipient is erased."""
    if link["company"]:
        return str(link["company"])
    email = link["recipient_email"]
    return email.rpartition("@")[2] if email else None


def _url(request: Request, link_id: str) -> str:
    return f"{request.app.state.settings.ingest_base_url}/s/{link_id}"


def _link_json(request: Request, link: asyncpg.Record,
               totals: asyncpg.Record | None) -> dict[str, Any]:
    return {
        "id": link["id"], "url": _url(request, link["id"]), "asset_id": link["asset_id"],
        "asset_title": link["asset_title"],
        "creator": {"id": link["creator_id"], "email": link["creator_email"],
                    "name": link["creator_name"]},
        "recipient_email": link["recipient_email"], "recipient_name": link["recipient_name"],
        "company": link["company"], "crm_contact_id": link["crm_contact_id"],
        "account": _account(link), "email_gate": link["email_gate"],
        # The gate asks for an email and never checks it (docs/share-links.md).
        "gate_email_verified": False if link["email_gate"] else None,
        "status": _status(link), "created_at": _iso(link["created_at"]),
        "expires_at": _iso(link["expires_at"]), "revoked_at": _iso(link["revoked_at"]),
        "erased_at": _iso(link["erased_at"]),
        **_visit_totals(totals),
    }


def _visit_totals(totals: asyncpg.Record | None) -> dict[str, Any]:
    if totals is None:  # never opened
        return {"visits": 0, "forwards": 0, "last_opened_at": None, "engaged_ms": 0,
                "last_device": None}
    return {"visits": totals["visits"], "forwards": totals["forwards"],
            "last_opened_at": _iso(totals["last_opened_at"]),
            "engaged_ms": totals["engaged_ms"], "last_device": totals["last_device"]}


def _snippet(request: Request, link: asyncpg.Record, sender_user: User) -> dict[str, str]:
    """A ready email that carries the link: the rep pastes it or sends it as it is."""
    url, title = _url(request, link["id"]), link["asset_title"]
    greeting = f"Hi {link['recipient_name']}," if link["recipient_name"] else "Hi,"
    signature = sender_user.name or sender_user.email
    text = (f"{greeting}\n\nI thought this would interest you: {title}\n{url}\n\n"
            f"Best,\n{signature}\n")
    e = html.escape
    body = (f"<p>{e(greeting)}</p><p>I thought this would interest you: "
            f'<a href="{e(url)}">{e(title)}</a></p><p>Best,<br>{e(signature)}</p>')
    return {"subject": title, "text": text, "html": body}


async def _create(request: Request, user: User, links: list[ShareLinkIn],
                  bulk: bool) -> list[dict[str, Any]]:
    created = await store.create_links(request.app.state.pool, user.id, links)
    if isinstance(created, store.UnknownAssets):
        raise RequestValidationError([{
            "type": "value_error",
            "loc": ("body", "links", i, "asset_id") if bulk else ("body", "asset_id"),
            "input": links[i].asset_id, "msg": f"unknown asset {links[i].asset_id!r}"}
            for i in created.positions])
    return [{**_link_json(request, r, None), "email_snippet": _snippet(request, r, user)}
            for r in created]


@router.post("/v1/share-links", status_code=201)
async def create_link(body: ShareLinkIn, request: Request,
                      user: User = Depends(sender)) -> dict[str, Any]:
    """A link for one recipient: its url on ingest (/s/{id}) and a ready email snippet."""
    return (await _create(request, user, [body], bulk=False))[0]


@router.post("/v1/share-links/bulk", status_code=201)
async def create_links(body: ShareLinksIn, request: Request,
                       user: User = Depends(sender)) -> dict[str, Any]:
    """Up to 500 links at once, all or none: one unknown asset refuses the lot (422)."""
    return {"links": await _create(request, user, body.links, bulk=True)}


async def _with_totals(request: Request, links: list[asyncpg.Record]) -> list[dict[str, Any]]:
    totals = await fetch_link_totals(request.app.state.pool, [r["id"] for r in links])
    return [_link_json(request, r, totals.get(r["id"])) for r in links]


@router.get("/v1/share-links")
async def my_links(request: Request, asset: str | None = AssetQuery, mine: bool = MineQuery,
                   limit: int = Query(100, ge=1, le=500), offset: int = Query(0, ge=0, le=10**9),
                   user: User = Depends(current_user)) -> dict[str, Any]:
    """The links I may see, newest first: mine, my reps' if I manage some, every link for
    an admin; each with its visits, forwards ("shared with N others") and last open."""
    links = await store.list_links(request.app.state.pool, user.id, _sees_all(request, user),
                                   asset, mine=mine, limit=limit, offset=offset)
    return {"limit": limit, "offset": offset, "links": await _with_totals(request, links)}


@router.get("/v1/share-links/accounts")
async def accounts(request: Request, asset: str | None = AssetQuery, mine: bool = MineQuery,
                   user: User = Depends(current_user)) -> dict[str, Any]:
    """The links I may see rolled up by account (company, else the email's domain), the
    most recently opened first."""
    links = await _with_totals(request, await store.list_links(
        request.app.state.pool, user.id, _sees_all(request, user), asset, mine=mine))
    rolled: dict[str | None, dict[str, Any]] = {}
    for link in links:
        row = rolled.setdefault(link["account"], {
            "account": link["account"], "links": 0, "opened": 0, "visits": 0, "forwards": 0,
            "engaged_ms": 0, "last_opened_at": None})
        row["links"] += 1
        row["opened"] += link["visits"] > 0
        for key in ("visits", "forwards", "engaged_ms"):
            row[key] += link[key]
        row["last_opened_at"] = max(filter(None, (row["last_opened_at"],
                                                  link["last_opened_at"])), default=None)
    ordered = sorted(rolled.values(), key=lambda r: (r["last_opened_at"] or "", r["links"]),
                     reverse=True)
    return {"accounts": ordered}


@router.get("/v1/share-links/stream")
async def stream_visits(request: Request, asset: str | None = AssetQuery,
                        user: User = Depends(current_user)) -> HeldStream:
    """Server-Sent Events: a ``visit`` event (a LinkVisitUpdate) for each open of, or more
    engaged time on, a link I may see, from now on. At most STREAMS_PER_USER open per user
    (429); the sign-in is re-checked every STREAM_SESSION_RECHECK_SECONDS (``signed-out``).
    It never ends, so the OpenAPI fuzz test leaves it out and tests it apart."""
    hub: LinkHub = request.app.state.link_hub
    settings = request.app.state.settings
    creators = None if _sees_all(request, user) else await store.visible_creators(
        request.app.state.pool, user.id)
    release = hub.slots.claim_or_429(user.id, settings.streams_per_user,
                                     settings.sse_heartbeat_seconds, "visit")

    async def signed_in() -> bool:
        return await session_user(request) is not None

    async def events() -> AsyncIterator[ServerSentEvent]:
        async with hub.feed(creators, asset) as feed:
            async for batch in batches_while_signed_in(
                    cast(Any, feed), signed_in, settings.stream_session_recheck_seconds):
                for update in batch:
                    yield ServerSentEvent(data=update.model_dump_json(), event="visit")
            yield SIGNED_OUT

    return HeldStream(events(), release=release, ping=settings.sse_heartbeat_seconds,
                      headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def _visit_json(visit: asyncpg.Record) -> dict[str, Any]:
    return {
        "event_id": str(visit["event_id"]),
        "who": f"forward {visit['forward_no']}" if visit["forwarded"] else "recipient",
        "forwarded": visit["forwarded"], "forward_no": visit["forward_no"],
        "opened_at": _iso(visit["opened_at"]), "device_class": visit["device_class"],
        "os": visit["os"], "browser": visit["browser"], "gated": visit["gated"],
        "engaged_ms": visit["engaged_ms"], "pages": list(visit["pages"]),
    }


async def _visible(request: Request, user: User, link_id: str) -> asyncpg.Record:
    link = None
    if re.fullmatch(LINK_ID_PATTERN, link_id):
        link = await store.get_link(request.app.state.pool, user.id,
                                    _sees_all(request, user), link_id)
    if link is None:
        raise HTTPException(404, "no such share link")
    return link


@router.get("/v1/share-links/{link_id}")
async def link_detail(link_id: LinkIdPath, request: Request,
                      user: User = Depends(current_user)) -> dict[str, Any]:
    """The link and its visits, newest first: who (the recipient, or "forward N"), when,
    device, engaged time and pages."""
    link = await _visible(request, user, link_id)
    visits = await fetch_link_visits(request.app.state.pool, link_id)
    totals = await fetch_link_totals(request.app.state.pool, [link_id])
    return {**_link_json(request, link, totals.get(link_id)),
            "visit_list": [_visit_json(v) for v in visits]}


@router.delete("/v1/share-links/{link_id}")
async def revoke(link_id: LinkIdPath, request: Request,
                 user: User = Depends(current_user)) -> dict[str, Any]:
    """Revoke: ingest answers the link with "no longer available" from its next cache
    refresh on. Its creator, their manager or an admin."""
    await _visible(request, user, link_id)
    await store.revoke_link(request.app.state.pool, user.id, _sees_all(request, user), link_id)
    return await link_detail(link_id, request, user)


@router.post("/v1/share-links/erase")
async def erase(body: EraseIn, request: Request,
                user: User = Depends(current_user)) -> dict[str, int]:
    """Erase a recipient on request: every link sent to the address (an admin) or every
    one of mine sent to it forgets the recipient; the visits and their counts stay, and
    keep no identity."""
    creator = None if _sees_all(request, user) else user.id
    return {"erased": await store.erase_recipient(request.app.state.pool, body.email, creator)}


@router.get("/v1/share-usage")
async def share_usage_by_asset(request: Request) -> dict[str, Any]:
    """Links sent and opened per asset, for the board: aggregates only, every asset that
    was ever shared."""
    pool = request.app.state.pool
    by_asset = await store.links_by_asset(pool)
    totals = await fetch_link_totals(pool, [i for ids in by_asset.values() for i in ids])
    assets = {}
    for asset_id, ids in sorted(by_asset.items()):
        opened = sum(1 for i in ids if i in totals)
        assets[asset_id] = {"links_sent": len(ids), "opened": opened,
                            "open_rate": round(opened / len(ids), 4)}
    return {"assets": assets}


@router.get("/v1/assets/{asset_id}/share-usage")
async def share_usage(asset_id: str, request: Request) -> dict[str, Any]:
    """How sales uses this content: links sent, open and forward rates, the median engaged
    time per recipient who opened, and which reps share it. Aggregates: no recipient."""
    pool = request.app.state.pool
    if await fetch_asset(pool, asset_id) is None:
        raise unknown_asset(asset_id)
    links = await store.links_of_asset(pool, asset_id)
    totals = await fetch_link_totals(pool, [r["id"] for r in links])
    opened = [t for t in totals.values() if t["visits"] > 0]
    forwarded = sum(1 for t in opened if t["forwards"] > 0)
    reps: dict[int, dict[str, Any]] = {}
    for link in links:
        rep = reps.setdefault(link["creator_id"], {
            "id": link["creator_id"], "name": link["creator_name"],
            "email": link["creator_email"], "links": 0})
        rep["links"] += 1
    sent = len(links)
    recipient_ms = [t["recipient_engaged_ms"] for t in opened]
    return {
        "asset_id": asset_id, "links_sent": sent, "opened": len(opened),
        "open_rate": round(len(opened) / sent, 4) if sent else None,
        "forwarded": forwarded,
        "forward_rate": round(forwarded / len(opened), 4) if opened else None,
        "median_engaged_ms_per_recipient": statistics.median(recipient_ms) if opened else None,
        "reps": sorted(reps.values(), key=lambda r: (-r["links"], r["email"])),
    }


#: How many visits the asset page's "how each recipient read it" lists.
RECIPIENT_READINGS = 50


@router.get("/v1/assets/{asset_id}/reading/recipients")
async def recipient_readings(
    asset_id: str, request: Request,
    window: Literal["7d", "30d", "90d", "120d", "all"] = Query("90d"),
    user: User = Depends(current_user),
) -> dict[str, Any]:
    """How each recipient read the asset: one entry per visit with paged dwell, newest
    first, of the links I may see (creator, their manager, admins); for anyone else the
    list is empty, like a link they may not see does not exist."""
    pool = request.app.state.pool
    if await fetch_asset(pool, asset_id) is None:
        raise unknown_asset(asset_id)
    day = window_start(window, utcnow().date())
    since = datetime.combine(day, time.min, timezone.utc) if day else None
    links = {r["id"]: r for r in await store.list_links(pool, user.id, _sees_all(request, user),
                                                        asset_id)}
    visits = await fetch_recipient_readings(pool, asset_id, list(links), since,
                                            RECIPIENT_READINGS) if links else []
    return {"asset_id": asset_id, "recipients": [
        {"link_id": v["link_id"], "recipient_name": links[v["link_id"]]["recipient_name"],
         "recipient_email": links[v["link_id"]]["recipient_email"],
         "company": links[v["link_id"]]["company"],
         "who": f"forward {v['forward_no']}" if v["forwarded"] else "recipient",
         "opened_at": _iso(v["opened_at"]), "furthest_page": v["furthest_page"],
         "engaged_ms": v["engaged_ms"],
         "pages": [{"page": p, "engaged_ms": ms}
                   for p, ms in zip(v["pages"], v["page_engaged_ms"], strict=True)]}
        for v in visits]}


@router.get("/v1/me/share-alert-preferences")
async def get_alert_preferences(request: Request,
                                user: User = Depends(current_user)) -> dict[str, Any]:
    """Which hot-engagement alerts the notifier sends me about my links (the defaults until
    I save any)."""
    return await store.fetch_alert_preferences(request.app.state.pool, user.id)


@router.put("/v1/me/share-alert-preferences")
async def put_alert_preferences(body: AlertPreferencesIn, request: Request,
                                user: User = Depends(current_user)) -> dict[str, Any]:
    await store.save_alert_preferences(request.app.state.pool, user.id, body)
    return await get_alert_preferences(request, user)


@router.put("/v1/users/{user_id}/manager")
async def put_manager(body: ManagerIn, request: Request,
                      user_id: int = Path(ge=1, le=2**63 - 1),
                      _: User = Depends(admin)) -> dict[str, Any]:
    """Set who manages a user (a manager or an admin; null for nobody): the manager sees
    the user's share links in full. Admins only."""
    found = await store.set_manager(request.app.state.pool, user_id, body.manager_id)
    if isinstance(found, str):
        raise RequestValidationError([{"type": "value_error", "loc": ("body", "manager_id"),
                                       "input": body.manager_id, "msg": found}])
    if found is None:
        raise HTTPException(404, f"no user {user_id}")
    return {"user_id": found["id"], "manager_id": found["manager_id"]}
