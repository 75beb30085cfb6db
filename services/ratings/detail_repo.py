"""SQL of the asset page's analytics: daily usage, dwell per page, recent ratings and the
latest score state. Each read runs in one read-only snapshot with its "does the asset
exist" check, so a 404 and the figures never disagree."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import asyncpg

from .score_repo import ASSET_EXISTS

__all__ = [
    "fetch_daily_usage",
    "fetch_page_dwell",
    "fetch_recent_ratings",
    "fetch_score_state",
]

# device_class 'all' holds the exact cross-device figures (one viewer on two devices is
# one unique viewer there).
DAILY_USAGE = """
SELECT day, views, unique_viewers, downloads, engaged_ms
FROM usage_daily
WHERE asset_id = $1 AND device_class = 'all' AND day BETWEEN $2 AND $3
ORDER BY day
"""

# Counted views only (a double-click reload is stored but suppressed), and every dwell
# slice, as the usage totals count them. The page script sends the page with each slice;
# an integration may send it on the view only, so a slice without one takes its view's.
PAGE_DWELL = """
WITH hits AS (
    SELECT e.type, coalesce(e.page, v.page) AS page, e.engaged_ms
    FROM events e
    LEFT JOIN events v ON e.type = 'dwell' AND e.page IS NULL AND v.event_id = e.view_id
    WHERE e.asset_id = $1 AND ($2::timestamptz IS NULL OR e.occurred_at >= $2)
      AND (e.type = 'dwell' OR (e.type = 'view' AND e.suppressed IS NULL))
)
SELECT page,
       count(*) FILTER (WHERE type = 'view')::bigint AS views,
       coalesce(sum(engaged_ms) FILTER (WHERE type = 'dwell'), 0)::bigint AS engaged_ms
FROM hits
GROUP BY page
"""

# The rater's role only: names and emails stay out, so people rate candidly.
RECENT_RATINGS = """
SELECT r.stars, r.comment, r.rated_at, u.role
FROM ratings r JOIN users u ON u.id = r.user_id
WHERE r.asset_id = $1
ORDER BY r.rated_at DESC, r.user_id DESC
LIMIT $2
"""
RATING_COUNT = "SELECT count(*) FROM ratings WHERE asset_id = $1"

SCORE_STATE = "SELECT message FROM asset_score_state WHERE asset_id = $1"


async def _read(pool: asyncpg.Pool, asset_id: str, query: str, *args: object) -> list[asyncpg.Record] | None:
    """Rows of ``query``, or None when there is no such asset."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        if not await conn.fetchval(ASSET_EXISTS, asset_id):
            return None
        return await conn.fetch(query, asset_id, *args)  # type: ignore[no-any-return]


async def fetch_daily_usage(
    pool: asyncpg.Pool, asset_id: str, first: date, last: date
) -> list[asyncpg.Record] | None:
    return await _read(pool, asset_id, DAILY_USAGE, first, last)


async def fetch_page_dwell(
    pool: asyncpg.Pool, asset_id: str, since: datetime | None
) -> list[asyncpg.Record] | None:
    return await _read(pool, asset_id, PAGE_DWELL, since)


async def fetch_recent_ratings(
    pool: asyncpg.Pool, asset_id: str, limit: int
) -> tuple[list[asyncpg.Record], int] | None:
    """The latest ``limit`` ratings and how many there are in all."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        if not await conn.fetchval(ASSET_EXISTS, asset_id):
            return None
        return await conn.fetch(RECENT_RATINGS, asset_id, limit), await conn.fetchval(
            RATING_COUNT, asset_id)


async def fetch_score_state(pool: asyncpg.Pool, asset_id: str) -> dict[str, Any] | None:
    """The aggregator's latest ``AssetScoreUpdate`` of the asset as JSON; None before its
    first usage or rating."""
    message = await pool.fetchval(SCORE_STATE, asset_id)
    return message  # type: ignore[no-any-return]
