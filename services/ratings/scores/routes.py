"""The score read API: one asset's score per window, the leaderboard list, its CSV export,
the SSE stream (signed-in users), and the AsyncAPI document of the topics behind them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from sse_starlette import ServerSentEvent

from shared.asyncapi import asyncapi_json
from shared.rating_math import Histogram, Score, score
from shared.web.params import BIGINT_MAX

from ..analytics.usage import window_start
from ..catalog.models import AssetType, Stage
from ..catalog.routes import unknown_asset
from ..identity.auth import current_user, session_user
from ..identity.models import User
from ..reads.aggregator import fetch_catalog_with_states, fetch_window_counts
from .hub import ScoreHub
from .listing import SORT_KEYS, ScoreFilter, idle_since, merge_catalog, sort_states, to_csv
from .streams import SIGNED_OUT, HeldStream, batches_while_signed_in

__all__ = ["SCORE_WINDOWS", "router", "score_json"]

router = APIRouter()
signed_in = APIRouter(dependencies=[Depends(current_user)])

SCORE_WINDOWS = ("7d", "30d", "90d", "all")
#: Enough to check by hand and to tell two close assets apart.
DECIMALS = 4

Window = Literal["7d", "30d", "90d", "120d"]
SORT_PATTERN = "^-?(" + "|".join(SORT_KEYS) + ")$"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, DECIMALS)


def score_json(s: Score, since: date | None) -> dict[str, Any]:
    return {
        "since": since.isoformat() if since else None,
        "count": s.count,
        "mean": _round(s.mean),
        "bayesian_average": _round(s.bayesian_average),
        "histogram": s.histogram.as_json(),
        "prior": {"mean": _round(s.prior.mean), "weight": s.prior.weight},
    }


@signed_in.get("/v1/assets/{asset_id}/score")
async def asset_score(asset_id: str, request: Request) -> dict[str, Any]:
    """Ratings given (in their current version) on a UTC day inside each window."""
    today = datetime.now(timezone.utc).date()
    starts = {window: window_start(window, today) for window in SCORE_WINDOWS}
    counts = await fetch_window_counts(request.app.state.pool, asset_id, starts)
    if counts is None:
        raise unknown_asset(asset_id)
    weight = request.app.state.settings.rating_prior_weight
    return {
        "asset_id": asset_id,
        "as_of": today.isoformat(),
        "windows": {
            window: score_json(
                score(Histogram.of(counts[window].asset), Histogram.of(counts[window].catalog),
                      weight),
                starts[window],
            )
            for window in SCORE_WINDOWS
        },
    }


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
    rows = await fetch_catalog_with_states(request.app.state.pool)
    states = [merge_catalog(r, r["message"], now) for r in rows]
    return sort_states([s for s in states if listing.where.matches(s)], listing.sort,
                       listing.window)


@signed_in.get("/v1/scores")
async def list_scores(
    request: Request,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
    listing: Listing = Depends(_listing),
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


@signed_in.get("/v1/scores.csv")
async def export_scores(request: Request, listing: Listing = Depends(_listing)) -> Response:
    states = await _listed(request, listing)
    day = datetime.now(timezone.utc).date().isoformat()
    window = listing.window
    filename = f"glassboard-scores-{window}-{day}.csv"
    return Response(
        to_csv(states, window),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@signed_in.get("/v1/scores/stream")
async def stream_scores(
    request: Request,
    asset: list[str] | None = Query(None, description="Only these assets (repeatable)"),
    since: int | None = Query(None, ge=0, le=BIGINT_MAX, description="Resume after this revision"),
    last_event_id: str | None = Header(None, alias="Last-Event-ID"),
    where: ScoreFilter = Depends(_filter),
    user: User = Depends(current_user),
) -> HeldStream:
    """Server-Sent Events: one ``score`` event per new state of a matching asset, its
    ``id`` the state's revision. On reconnect the browser sends ``Last-Event-ID`` and
    receives every matching state newer than it first; without it (nor ``since``) the
    stream starts with the current state of every matching asset. At most STREAMS_PER_USER
    open at once per user (429); the sign-in behind it is re-checked every
    STREAM_SESSION_RECHECK_SECONDS, and the stream ends (``signed-out``) when it ended."""
    if asset:
        where = ScoreFilter(assets=frozenset(asset), owner=where.owner,
                            asset_type=where.asset_type, stage=where.stage, text=where.text,
                            idle_since=where.idle_since)
    resume = _resume_point(last_event_id, since)
    hub: ScoreHub = request.app.state.score_hub
    settings = request.app.state.settings
    release = hub.slots.claim_or_429(user.id, settings.streams_per_user,
                                     settings.sse_heartbeat_seconds, "score")

    async def signed_in() -> bool:
        return await session_user(request) is not None

    async def events() -> AsyncIterator[ServerSentEvent]:
        async with hub.subscribe(where) as subscription:
            for state in hub.since(resume, where):
                yield _event(state)
            async for batch in batches_while_signed_in(
                    subscription, signed_in, settings.stream_session_recheck_seconds):
                for state in batch:
                    if state.revision > resume:
                        yield _event(state)
            yield SIGNED_OUT

    # Heartbeat comments keep proxies and browsers from closing an idle stream.
    return HeldStream(events(), release=release, ping=settings.sse_heartbeat_seconds,
                      headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def _resume_point(last_event_id: str | None, since: int | None) -> int:
    """Last-Event-ID wins (the browser's own reconnect); an unreadable one starts over."""
    text = (last_event_id or "").strip()
    if text.isascii() and text.isdigit() and len(text) <= 19 and int(text) <= BIGINT_MAX:
        return int(text)
    return since or 0


def _event(state: Any) -> ServerSentEvent:
    return ServerSentEvent(data=state.model_dump_json(), event="score", id=str(state.revision))


@router.get("/asyncapi.json", include_in_schema=False)
async def asyncapi_document(request: Request) -> Response:
    """The topics, their keys and message schemas, generated by FastStream; in production
    without the broker addresses."""
    settings = request.app.state.settings
    servers = None if settings.production else settings.kafka_bootstrap_servers
    return Response(asyncapi_json(settings.topics, servers, "2"), media_type="application/json")


router.include_router(signed_in)
