"""The score read API: the leaderboard list, its CSV export, the SSE stream and the
AsyncAPI document of the topics behind them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from sse_starlette import EventSourceResponse, ServerSentEvent

from shared.asyncapi import asyncapi_json

from .auth import current_user
from .catalog import AssetType, Stage
from .score_feed import ScoreHub
from .score_listing import SORT_KEYS, ScoreFilter, idle_since, merge_catalog, sort_states, to_csv
from .users import User

__all__ = ["router"]

router = APIRouter()

Window = Literal["7d", "30d", "90d", "120d"]
SORT_PATTERN = "^-?(" + "|".join(SORT_KEYS) + ")$"

SELECT_CATALOG_WITH_STATES = """
SELECT a.id, a.title, a.type, a.stage, a.owner_email, s.message
FROM assets a LEFT JOIN asset_score_state s ON s.asset_id = a.id
"""


def _filter(
    owner: str | None = Query(None, max_length=320, description="Owner's email"),
    type: AssetType | None = Query(None),
    stage: Stage | None = Query(None),
    q: str | None = Query(None, max_length=100, description="Search in title and id"),
    stale_days: int | None = Query(None, ge=1, le=3650,
                                   description="Only assets with no usage in this many days"),
) -> ScoreFilter:
    now = datetime.now(timezone.utc)
    return ScoreFilter(owner=owner, asset_type=type, stage=stage, text=q or None,
                       idle_since=idle_since(now, stale_days))


@dataclass(frozen=True)
class Listing:
    """What a list or its CSV shows: the window, the order and the filter."""

    window: str
    sort: str
    where: ScoreFilter


def _listing(
    window: Window = Query("90d"),
    sort: str = Query("-score", pattern=SORT_PATTERN,
                      description="A column, - first for descending"),
    where: ScoreFilter = Depends(_filter),
) -> Listing:
    return Listing(window, sort, where)


async def _listed(request: Request, listing: Listing) -> list[Any]:
    now = datetime.now(timezone.utc)
    rows = await request.app.state.pool.fetch(SELECT_CATALOG_WITH_STATES)
    states = [merge_catalog(r, r["message"], now) for r in rows]
    return sort_states([s for s in states if listing.where.matches(s)], listing.sort,
                       listing.window)


@router.get("/v1/scores")
async def list_scores(
    request: Request,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
    listing: Listing = Depends(_listing),
    _: User = Depends(current_user),
) -> dict[str, Any]:
    """Every asset's latest score state, filtered, sorted and paginated. ``revision`` is
    the newest state the list may include: stream from it to miss nothing."""
    revision = request.app.state.score_hub.revision
    states = await _listed(request, listing)
    return {
        "window": listing.window,
        "sort": listing.sort,
        "revision": revision,
        "total": len(states),
        "limit": limit,
        "offset": offset,
        "items": [s.model_dump(mode="json") for s in states[offset:offset + limit]],
    }


@router.get("/v1/scores.csv")
async def export_scores(
    request: Request,
    listing: Listing = Depends(_listing),
    _: User = Depends(current_user),
) -> Response:
    states = await _listed(request, listing)
    day = datetime.now(timezone.utc).date().isoformat()
    window = listing.window
    return Response(
        to_csv(states, window),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="glassboard-scores-{window}-{day}.csv"'},
    )


@router.get("/v1/scores/stream")
async def stream_scores(
    request: Request,
    asset: list[str] | None = Query(None, description="Only these assets (repeatable)"),
    since: int | None = Query(None, ge=0, description="Resume after this revision"),
    last_event_id: str | None = Header(None, alias="Last-Event-ID"),
    where: ScoreFilter = Depends(_filter),
    _: User = Depends(current_user),
) -> EventSourceResponse:
    """Server-Sent Events: one ``score`` event per new state of a matching asset, its
    ``id`` the state's revision. On reconnect the browser sends ``Last-Event-ID`` and
    receives every matching state newer than it first; without it (nor ``since``) the
    stream starts with the current state of every matching asset."""
    if asset:
        where = ScoreFilter(assets=frozenset(asset), owner=where.owner,
                            asset_type=where.asset_type, stage=where.stage, text=where.text,
                            idle_since=where.idle_since)
    resume = _resume_point(last_event_id, since)
    hub: ScoreHub = request.app.state.score_hub

    async def events() -> AsyncIterator[ServerSentEvent]:
        async with hub.subscribe(where) as subscription:
            for state in hub.since(resume, where):
                yield _event(state)
            while True:
                for state in await subscription.next_batch():
                    if state.revision > resume:
                        yield _event(state)

    # Heartbeat comments keep proxies and browsers from closing an idle stream.
    return EventSourceResponse(events(), ping=request.app.state.settings.sse_heartbeat_seconds,
                               headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def _resume_point(last_event_id: str | None, since: int | None) -> int:
    """Last-Event-ID wins (the browser's own reconnect); an unreadable one starts over."""
    if last_event_id is not None and last_event_id.strip().isdigit():
        return int(last_event_id.strip())
    return since or 0


def _event(state: Any) -> ServerSentEvent:
    return ServerSentEvent(data=state.model_dump_json(), event="score", id=str(state.revision))


@router.get("/asyncapi.json", include_in_schema=False)
async def asyncapi_document(request: Request) -> Response:
    """The topics, their keys and message schemas, generated by FastStream."""
    settings = request.app.state.settings
    return Response(asyncapi_json(settings.topics, settings.kafka_bootstrap_servers, "2"),
                    media_type="application/json")
