"""Read APIs of one asset's usage: totals per device over a window, usage per day, dwell per
page, how its document is read page by page and its video watched, and the latest ratings
with their comments; and what the edge filtered out, and why. Signed-in users only, like
every read here."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError

from shared.events import RejectReason

from ..catalog.routes import unknown_asset
from ..catalog.store import asset_snapshot, fetch_asset
from ..files.store import list_media
from ..identity.auth import current_user
from ..rating.store import fetch_recent_ratings
from ..reads.aggregator import (
    fetch_asset_rejected,
    fetch_asset_rejected_latest,
    fetch_daily_usage,
    fetch_page_dwell,
    fetch_reading_rows,
    fetch_usage_rows,
    fetch_video_plays,
    rejected_summary,
)
from .detail import daily_series, page_dwell, recent_ratings
from .filtered import filtered_report, reason_label
from .reading import reading_report
from .usage import usage_report, window_start
from .watching import video_report

__all__ = ["MAX_DAYS", "router"]

router = APIRouter(dependencies=[Depends(current_user)])

#: The longest score window: the asset page's usage chart shows it whole.
MAX_DAYS = 120


def _today() -> Any:
    return datetime.now(timezone.utc).date()


def _day_start(day: Any) -> datetime | None:
    return datetime.combine(day, time.min, timezone.utc) if day else None


#: The windows of the asset page's reads over raw rows: the score windows and all time.
PageWindow = Literal["7d", "30d", "90d", "120d", "all"]


def _heading(asset_id: str, window: str, since: Any) -> dict[str, Any]:
    """What every windowed read of one asset starts its answer with."""
    return {"asset_id": asset_id, "window": window,
            "since": since.isoformat() if since else None}


@router.get("/v1/assets/{asset_id}/usage")
async def asset_usage(
    asset_id: str,
    request: Request,
    window: Literal["7d", "30d", "90d", "all"] = Query("30d"),
) -> dict[str, Any]:
    """Views, unique viewers, downloads, dwell and device mix over a window of UTC days."""
    pool = request.app.state.pool
    if await fetch_asset(pool, asset_id) is None:
        raise unknown_asset(asset_id)
    since = window_start(window, _today())
    counters, uniques, dwell = await fetch_usage_rows(pool, asset_id, since)
    return usage_report(asset_id, window, since, counters, uniques, dwell)


@router.get("/v1/rejected-events/summary")
async def rejected_events_summary(
    request: Request,
    window: PageWindow = Query("7d"),
    asset: str | None = Query(None, max_length=80, description="Only this asset's hits"),
) -> dict[str, Any]:
    """What was filtered and why (unknown asset, bot, invalid, limited, ...), Snowplow-style;
    of every asset, or of one (an id no asset has shows the hits refused as unknown)."""
    since = _day_start(window_start(window, _today()))
    by_reason = await rejected_summary(request.app.state.pool, since, asset)
    scope = {"asset_id": asset} if asset is not None else {}
    return {"window": window, **scope, **filtered_report(by_reason)}


@router.get("/v1/assets/{asset_id}/filtered")
async def asset_filtered(
    asset_id: str,
    request: Request,
    window: PageWindow = Query("120d"),
) -> dict[str, Any]:
    """Hits of this asset kept out of its counts, per reason, over a window of UTC days:
    the asset page's "N hits filtered" line."""
    since = window_start(window, _today())
    by_reason = await fetch_asset_rejected(request.app.state.pool, asset_id, _day_start(since))
    if by_reason is None:
        raise unknown_asset(asset_id)
    return {**_heading(asset_id, window, since), **filtered_report(by_reason)}


@router.get("/v1/assets/{asset_id}/filtered/latest")
async def asset_filtered_latest(
    asset_id: str,
    request: Request,
    reason: RejectReason | None = Query(None, description="Only hits refused for this reason"),
    limit: int = Query(20, ge=1, le=200),
) -> dict[str, Any]:
    """This asset's latest hits kept out of its counts, newest first, each with why: the
    suspect hits' scanner rule, the bot's name, the machine open's proxy."""
    rows = await fetch_asset_rejected_latest(
        request.app.state.pool, asset_id, reason.value if reason else None, limit)
    if rows is None:
        raise unknown_asset(asset_id)
    return {"asset_id": asset_id, "hits": [
        {"received_at": r["received_at"].isoformat(), "reason": r["reason"],
         "label": reason_label(r["reason"], 1), "detail": r["detail"], "source": r["source"],
         "type": r["type"]} for r in rows]}


@router.get("/v1/assets/{asset_id}/usage/daily")
async def daily_usage(
    asset_id: str,
    request: Request,
    days: int = Query(MAX_DAYS, ge=1, le=MAX_DAYS, description="UTC days, today included"),
) -> dict[str, Any]:
    """One row per UTC day, oldest first, quiet days as zeros: views, unique viewers (that
    day), downloads and engaged time."""
    today = _today()
    first = today - timedelta(days=days - 1)
    rows = await fetch_daily_usage(request.app.state.pool, asset_id, first, today)
    if rows is None:
        raise unknown_asset(asset_id)
    return {"asset_id": asset_id, "since": first.isoformat(), "until": today.isoformat(),
            "daily": daily_series(rows, first, today)}


@router.get("/v1/assets/{asset_id}/pages")
async def pages(
    asset_id: str,
    request: Request,
    window: PageWindow = Query("90d"),
) -> dict[str, Any]:
    """Views and engaged time per page of a multi-page document; ``page`` is null for
    hits that named no page."""
    since = window_start(window, _today())
    rows = await fetch_page_dwell(request.app.state.pool, asset_id, _day_start(since))
    if rows is None:
        raise unknown_asset(asset_id)
    shaped = page_dwell(rows)
    return {
        **_heading(asset_id, window, since),
        "numbered_pages": sum(1 for p in shaped if p["page"] is not None),
        "pages": shaped,
    }


_PDF, _MP4 = "application/pdf", "video/mp4"


@router.get("/v1/assets/{asset_id}/reading")
async def reading(
    asset_id: str,
    request: Request,
    window: PageWindow = Query("90d"),
    version: int | None = Query(None, ge=1, le=2**31 - 1,
                                description="Only the readings of this PDF version"),
) -> dict[str, Any]:
    """How far readers get and where they linger or come back: per page the readers who
    reached it, their engaged time and re-reads, over every version or one
    (analytics/reading.py has the definitions)."""
    since = window_start(window, _today())
    async with asset_snapshot(request.app.state.pool, asset_id) as conn:
        if conn is None:
            raise unknown_asset(asset_id)
        versions = [v for v in await list_media(conn, asset_id) if v["content_type"] == _PDF]
        rows = await fetch_reading_rows(conn, asset_id, _day_start(since))
    if version is not None and version not in {v["version"] for v in versions}:
        raise RequestValidationError([{
            "type": "value_error", "loc": ("query", "version"), "input": version,
            "msg": f"the asset has no PDF version {version}"}])
    return reading_report(asset_id, window, since, rows, versions, version)


@router.get("/v1/assets/{asset_id}/video")
async def video(
    asset_id: str,
    request: Request,
    window: PageWindow = Query("90d"),
) -> dict[str, Any]:
    """Plays of the asset's video over a window of UTC days: watch time, quartiles reached
    and the share of plays that covered each 1% of it."""
    since = window_start(window, _today())
    async with asset_snapshot(request.app.state.pool, asset_id) as conn:
        if conn is None:
            raise unknown_asset(asset_id)
        videos = [v for v in await list_media(conn, asset_id) if v["content_type"] == _MP4]
        totals, covered = await fetch_video_plays(conn, asset_id, since)
    length = videos[0]["duration_ms"] if videos else None
    return video_report(asset_id, window, since, totals, covered, length)


@router.get("/v1/assets/{asset_id}/ratings/recent")
async def recent(
    asset_id: str,
    request: Request,
    limit: int = Query(20, ge=1, le=100),
) -> dict[str, Any]:
    """The latest current ratings, newest first, with the rater's role but not their name."""
    found = await fetch_recent_ratings(request.app.state.pool, asset_id, limit)
    if found is None:
        raise unknown_asset(asset_id)
    rows, count = found
    return {"asset_id": asset_id, "count": count, "ratings": recent_ratings(rows)}
