"""Every read ratings makes of tables the aggregator owns (usage_daily, viewer_days,
view_dwell, events, rejected_events, rating_daily, asset_score_state, link_visits,
video_plays): the one
place to look when the aggregator changes its schema.

Reads about one asset run in one read-only, repeatable-read snapshot with the "does the
asset exist" check, so a 404 and the figures never disagree, and the asset's histograms and
the catalog prior they are compared with come from the same moment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import asyncpg

from ..catalog.store import asset_snapshot

__all__ = [
    "WindowCounts",
    "fetch_asset_rejected",
    "fetch_asset_rejected_latest",
    "fetch_catalog_with_states",
    "fetch_daily_usage",
    "fetch_link_totals",
    "fetch_link_visits",
    "fetch_newer_states",
    "fetch_page_dwell",
    "fetch_reading_rows",
    "fetch_recipient_readings",
    "fetch_score_state",
    "fetch_usage_rows",
    "fetch_video_plays",
    "fetch_window_counts",
    "rejected_summary",
]

# --- usage totals (GET /v1/assets/{id}/usage) ------------------------------------------

USAGE_BY_DEVICE = """
SELECT device_class, sum(views)::bigint AS views, sum(downloads)::bigint AS downloads,
       sum(engaged_ms)::bigint AS engaged_ms, sum(wall_ms)::bigint AS wall_ms
FROM usage_daily
WHERE asset_id = $1 AND ($2::date IS NULL OR day >= $2)
GROUP BY device_class
"""

UNIQUES_BY_DEVICE = """
SELECT device_class, count(DISTINCT viewer_key)::bigint AS unique_viewers
FROM viewer_days
WHERE asset_id = $1 AND ($2::date IS NULL OR day >= $2)
GROUP BY device_class
"""

# Only counted views take part: dwell of a double-click reload or of a view that never
# arrived still adds to the totals, but is not a "view with dwell".
DWELL_PER_VIEW = """
SELECT count(*)::bigint AS views_with_dwell,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY d.engaged_ms) AS median_engaged_ms,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY d.wall_ms) AS median_wall_ms
FROM view_dwell d
JOIN events v ON v.event_id = d.view_id AND v.type = 'view' AND v.suppressed IS NULL
WHERE d.asset_id = $1 AND ($2::date IS NULL OR d.day >= $2)
"""

REJECTED_BY_REASON = """
SELECT reason, count(*)::bigint AS n FROM rejected_events
WHERE ($1::timestamptz IS NULL OR received_at >= $1)
  AND ($2::text IS NULL OR asset_id = $2)
GROUP BY reason ORDER BY reason
"""

# --- the asset page's analytics -------------------------------------------------------

# What the edge and the aggregator kept out of this asset's counts (index of 0008).
ASSET_REJECTED_BY_REASON = """
SELECT reason, count(*)::bigint AS n FROM rejected_events
WHERE asset_id = $1 AND ($2::timestamptz IS NULL OR received_at >= $2)
GROUP BY reason ORDER BY reason
"""

ASSET_REJECTED_LATEST = """
SELECT received_at, reason, detail, source, payload->>'type' AS type FROM rejected_events
WHERE asset_id = $1 AND ($2::text IS NULL OR reason = $2)
ORDER BY received_at DESC LIMIT $3
"""

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

# One row per (reading, page): a reading is a view_id, its slices its dwell events with a
# page, in reading order (occurred_at, received_at, event_id). A run starts at every slice
# whose page differs from the previous slice's (analytics/reading.py). Only the slices
# inside the window count, so a reading that began before it starts at its first one there.
READING_ROWS = """
WITH slices AS (
    SELECT view_id, page, coalesce(engaged_ms, 0) AS engaged_ms,
           lag(page) OVER (PARTITION BY view_id
                           ORDER BY occurred_at, received_at, event_id) AS previous_page,
           min(occurred_at) OVER (PARTITION BY view_id) AS started_at
    FROM events
    WHERE asset_id = $1 AND ($2::timestamptz IS NULL OR occurred_at >= $2)
      AND type = 'dwell' AND page IS NOT NULL AND view_id IS NOT NULL
)
SELECT view_id, page, sum(engaged_ms)::bigint AS engaged_ms,
       count(*) FILTER (WHERE previous_page IS DISTINCT FROM page)::int AS runs,
       min(started_at) AS started_at
FROM slices
GROUP BY view_id, page
"""

# The plays of a window of UTC days (video_plays, one row per play; analytics/watching.py).
VIDEO_TOTALS = """
SELECT count(*)::bigint AS plays, coalesce(sum(watched_ms), 0)::bigint AS watch_ms,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY watched_ms) AS median_watch_ms,
       max(duration_ms) AS longest_ms
FROM video_plays
WHERE asset_id = $1 AND ($2::date IS NULL OR day >= $2)
"""

# Plays per 1% bucket of the video: 100 rows whatever the number of plays.
VIDEO_COVERED = """
SELECT b.bucket, count(p.play_id)::bigint AS plays
FROM generate_series(0, 99) AS b(bucket)
LEFT JOIN video_plays p ON p.asset_id = $1 AND ($2::date IS NULL OR p.day >= $2)
                       AND get_bit(p.watched, b.bucket) = 1
GROUP BY b.bucket ORDER BY b.bucket
"""

# --- scores ----------------------------------------------------------------------------

# Rating histograms come from the aggregator's ``rating_daily``, never from ``ratings``.
# Catalog-wide sums join the live ``assets``: a deleted asset's ratings are withdrawn
# through the outbox, and until the aggregator has applied those withdrawals its rows must
# not weigh on everyone's prior. A sum can only be negative while a replacement overtakes
# the rating it replaces; it is read as zero.
WINDOW_COUNTS = """
SELECT w.name AS window, d.stars,
       greatest(coalesce(sum(d.ratings) FILTER (WHERE d.asset_id = $1), 0), 0)::bigint
           AS asset_ratings,
       greatest(sum(d.ratings), 0)::bigint AS catalog_ratings
FROM unnest($2::text[], $3::date[]) AS w(name, since)
JOIN rating_daily d ON w.since IS NULL OR d.day >= w.since
JOIN assets a ON a.id = d.asset_id AND a.deleted_at IS NULL
GROUP BY w.name, d.stars
"""

SCORE_STATE = "SELECT message FROM asset_score_state WHERE asset_id = $1"

SELECT_NEWER_STATES = """
SELECT message FROM asset_score_state WHERE revision > $1 ORDER BY revision
"""

SELECT_CATALOG_WITH_STATES = """
SELECT a.id, a.title, a.type, a.stage, a.owner_email, s.message
FROM assets a LEFT JOIN asset_score_state s ON s.asset_id = a.id
WHERE a.deleted_at IS NULL
"""


async def fetch_usage_rows(
    pool: asyncpg.Pool, asset_id: str, since: date | None
) -> tuple[list[asyncpg.Record], list[asyncpg.Record], asyncpg.Record]:
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        counters = await conn.fetch(USAGE_BY_DEVICE, asset_id, since)
        uniques = await conn.fetch(UNIQUES_BY_DEVICE, asset_id, since)
        dwell = await conn.fetchrow(DWELL_PER_VIEW, asset_id, since)
    return counters, uniques, dwell


async def rejected_summary(pool: asyncpg.Pool, since: datetime | None,
                           asset_id: str | None = None) -> dict[str, int]:
    """Refused hits per reason since ``since`` (None: as far back as they are kept), of one
    asset or of all."""
    rows = await pool.fetch(REJECTED_BY_REASON, since, asset_id)
    return {r["reason"]: r["n"] for r in rows}


async def fetch_asset_rejected(pool: asyncpg.Pool, asset_id: str,
                               since: datetime | None) -> dict[str, int] | None:
    """One asset's refused hits per reason, in the snapshot that checks it exists; None for
    no such asset."""
    rows = await _read(pool, asset_id, ASSET_REJECTED_BY_REASON, since)
    return None if rows is None else {r["reason"]: r["n"] for r in rows}


async def fetch_asset_rejected_latest(
    pool: asyncpg.Pool, asset_id: str, reason: str | None, limit: int
) -> list[asyncpg.Record] | None:
    """One asset's latest refused hits, newest first, each with its reason and detail;
    None for no such asset."""
    return await _read(pool, asset_id, ASSET_REJECTED_LATEST, reason, limit)


async def _read(pool: asyncpg.Pool, asset_id: str, query: str,
                *args: object) -> list[asyncpg.Record] | None:
    """Rows of ``query``, or None when there is no such asset."""
    async with asset_snapshot(pool, asset_id) as conn:
        return None if conn is None else await conn.fetch(query, asset_id, *args)


async def fetch_daily_usage(
    pool: asyncpg.Pool, asset_id: str, first: date, last: date
) -> list[asyncpg.Record] | None:
    return await _read(pool, asset_id, DAILY_USAGE, first, last)


async def fetch_page_dwell(
    pool: asyncpg.Pool, asset_id: str, since: datetime | None
) -> list[asyncpg.Record] | None:
    return await _read(pool, asset_id, PAGE_DWELL, since)


async def fetch_reading_rows(conn: asyncpg.Connection, asset_id: str,
                             since: datetime | None) -> list[asyncpg.Record]:
    """Per (reading, page): engaged ms, runs and the reading's first slice; read in the
    caller's snapshot, beside the asset's file versions."""
    return list(await conn.fetch(READING_ROWS, asset_id, since))


async def fetch_video_plays(conn: asyncpg.Connection, asset_id: str,
                            since: date | None) -> tuple[asyncpg.Record, list[int]]:
    """The plays' totals and the plays per bucket (100 counts), in the caller's snapshot."""
    totals = await conn.fetchrow(VIDEO_TOTALS, asset_id, since)
    covered = [int(r["plays"]) for r in await conn.fetch(VIDEO_COVERED, asset_id, since)]
    return totals, covered


@dataclass(frozen=True)
class WindowCounts:
    """Ratings per stars in one window: the asset's, and the whole catalog's."""

    asset: dict[int, int] = field(default_factory=dict)
    catalog: dict[int, int] = field(default_factory=dict)


async def fetch_window_counts(
    pool: asyncpg.Pool, asset_id: str, windows: Mapping[str, date | None]
) -> dict[str, WindowCounts] | None:
    """Counts per window (first day inside it, None for all time); None for no such asset."""
    names = sorted(windows)
    rows = await _read(pool, asset_id, WINDOW_COUNTS, names, [windows[n] for n in names])
    if rows is None:
        return None
    return {
        name: WindowCounts(
            asset={r["stars"]: r["asset_ratings"] for r in rows if r["window"] == name},
            catalog={r["stars"]: r["catalog_ratings"] for r in rows if r["window"] == name},
        )
        for name in names
    }


async def fetch_score_state(pool: asyncpg.Pool, asset_id: str) -> dict[str, Any] | None:
    """The aggregator's latest ``AssetScoreUpdate`` of the asset as JSON; None before its
    first usage or rating."""
    message = await pool.fetchval(SCORE_STATE, asset_id)
    return message  # type: ignore[no-any-return]


async def fetch_newer_states(pool: asyncpg.Pool, revision: int) -> list[dict[str, Any]]:
    """Stored score states above ``revision``, oldest first: the score hub's catch-up."""
    return [r["message"] for r in await pool.fetch(SELECT_NEWER_STATES, revision)]


async def fetch_catalog_with_states(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    """Every asset with its catalog fields and its latest score state (None if unscored)."""
    return await pool.fetch(SELECT_CATALOG_WITH_STATES)  # type: ignore[no-any-return]


# --- share links (links/) ----------------------------------------------------------------

# One row per link that has a visit; forwards are the distinct forwarded browsers.
LINK_TOTALS = """
SELECT link_id, count(*)::bigint AS visits,
       count(DISTINCT forward_no) FILTER (WHERE forwarded)::bigint AS forwards,
       max(opened_at) AS last_opened_at, sum(engaged_ms)::bigint AS engaged_ms,
       coalesce(sum(engaged_ms) FILTER (WHERE NOT forwarded), 0)::bigint AS recipient_engaged_ms,
       (array_agg(device_class ORDER BY opened_at DESC))[1] AS last_device
FROM link_visits WHERE link_id = any($1::text[])
GROUP BY link_id
"""

LINK_VISITS = """
SELECT event_id, opened_at, device_class, os, browser, forwarded, forward_no,
       gate_email_hash IS NOT NULL AS gated, engaged_ms, pages
FROM link_visits WHERE link_id = $1
ORDER BY opened_at DESC, event_id
"""


# Link visits with paged dwell: the dwell slices whose view_id is the visit (the open's
# event_id), summed per page. Newest first.
RECIPIENT_READINGS = """
WITH visits AS (
    SELECT event_id, link_id, opened_at, forwarded, forward_no FROM link_visits
    WHERE asset_id = $1 AND link_id = any($2::text[])
      AND ($3::timestamptz IS NULL OR opened_at >= $3)
), paged AS (
    SELECT v.event_id, e.page, sum(coalesce(e.engaged_ms, 0))::bigint AS engaged_ms
    FROM visits v
    JOIN events e ON e.asset_id = $1 AND e.view_id = v.event_id AND e.type = 'dwell'
                 AND e.page IS NOT NULL
    GROUP BY v.event_id, e.page
)
SELECT v.event_id, v.link_id, v.opened_at, v.forwarded, v.forward_no,
       max(p.page) AS furthest_page, sum(p.engaged_ms)::bigint AS engaged_ms,
       array_agg(p.page ORDER BY p.page) AS pages,
       array_agg(p.engaged_ms ORDER BY p.page) AS page_engaged_ms
FROM visits v JOIN paged p ON p.event_id = v.event_id
GROUP BY v.event_id, v.link_id, v.opened_at, v.forwarded, v.forward_no
ORDER BY v.opened_at DESC, v.event_id
LIMIT $4
"""


async def fetch_link_totals(pool: asyncpg.Pool,
                            link_ids: list[str]) -> dict[str, asyncpg.Record]:
    """Visit totals per link, for the links among ``link_ids`` that were opened."""
    return {r["link_id"]: r for r in await pool.fetch(LINK_TOTALS, link_ids)}


async def fetch_link_visits(pool: asyncpg.Pool, link_id: str) -> list[asyncpg.Record]:
    """One link's counted opens, newest first."""
    return list(await pool.fetch(LINK_VISITS, link_id))


async def fetch_recipient_readings(pool: asyncpg.Pool, asset_id: str, link_ids: list[str],
                                   since: datetime | None,
                                   limit: int) -> list[asyncpg.Record]:
    """The visits of ``link_ids`` opened since ``since`` that have paged dwell, newest
    first: furthest page, engaged ms, and the pages with their engaged ms."""
    return list(await pool.fetch(RECIPIENT_READINGS, asset_id, link_ids, since, limit))
