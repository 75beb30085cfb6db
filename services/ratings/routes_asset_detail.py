"""Read APIs behind the asset page's analytics: usage per day, dwell per page, and the
latest ratings with their comments. Signed-in users only, like every read here."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from . import detail_repo
from .asset_detail import daily_series, page_dwell, recent_ratings
from .auth import current_user
from .usage import window_start
from .users import User

__all__ = ["MAX_DAYS", "router"]

router = APIRouter()

#: The longest score window: the asset page's usage chart shows it whole.
MAX_DAYS = 120


def _unknown(asset_id: str) -> HTTPException:
    return HTTPException(404, f"unknown asset {asset_id!r}")


@router.get("/v1/assets/{asset_id}/usage/daily")
async def daily_usage(
    asset_id: str,
    request: Request,
    days: int = Query(MAX_DAYS, ge=1, le=MAX_DAYS, description="UTC days, today included"),
    _: User = Depends(current_user),
) -> dict[str, Any]:
    """One row per UTC day, oldest first, quiet days as zeros: views, unique viewers (that
    day), downloads and engaged time."""
    today = datetime.now(timezone.utc).date()
    first = today - timedelta(days=days - 1)
    rows = await detail_repo.fetch_daily_usage(request.app.state.pool, asset_id, first, today)
    if rows is None:
        raise _unknown(asset_id)
    return {"asset_id": asset_id, "since": first.isoformat(), "until": today.isoformat(),
            "daily": daily_series(rows, first, today)}


@router.get("/v1/assets/{asset_id}/pages")
async def pages(
    asset_id: str,
    request: Request,
    window: Literal["7d", "30d", "90d", "120d", "all"] = Query("90d"),
    _: User = Depends(current_user),
) -> dict[str, Any]:
    """Views and engaged time per page of a multi-page document; ``page`` is null for
    hits that named no page."""
    since = window_start(window, datetime.now(timezone.utc).date())
    since_at = datetime.combine(since, time.min, timezone.utc) if since else None
    rows = await detail_repo.fetch_page_dwell(request.app.state.pool, asset_id, since_at)
    if rows is None:
        raise _unknown(asset_id)
    shaped = page_dwell(rows)
    return {
        "asset_id": asset_id,
        "window": window,
        "since": since.isoformat() if since else None,
        "numbered_pages": sum(1 for p in shaped if p["page"] is not None),
        "pages": shaped,
    }


@router.get("/v1/assets/{asset_id}/ratings/recent")
async def recent(
    asset_id: str,
    request: Request,
    limit: int = Query(20, ge=1, le=100),
    _: User = Depends(current_user),
) -> dict[str, Any]:
    """The latest current ratings, newest first, with the rater's role but not their name."""
    found = await detail_repo.fetch_recent_ratings(request.app.state.pool, asset_id, limit)
    if found is None:
        raise _unknown(asset_id)
    rows, count = found
    return {"asset_id": asset_id, "count": count, "ratings": recent_ratings(rows)}
