"""The ratings app's SQL: catalog writes and usage reads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import asyncpg

from .catalog import AssetIn

__all__ = [
    "fetch_asset",
    "fetch_usage_rows",
    "insert_asset",
    "list_assets",
    "rejected_summary",
    "upsert_assets",
]

INSERT_ASSET = """
INSERT INTO assets (id, title, type, url, owner_email) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (id) DO NOTHING
RETURNING id, title, type, url, owner_email, created_at, updated_at
"""

UPSERT_ASSETS = """
INSERT INTO assets (id, title, type, url, owner_email)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
ON CONFLICT (id) DO UPDATE SET
    title = excluded.title, type = excluded.type, url = excluded.url,
    owner_email = excluded.owner_email, updated_at = now()
RETURNING (xmax = 0) AS inserted
"""

SELECT_ASSET = "SELECT id, title, type, url, owner_email, created_at, updated_at FROM assets WHERE id = $1"
LIST_ASSETS = "SELECT id, title, type, url, owner_email, created_at, updated_at FROM assets ORDER BY id"

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

DWELL_PER_VIEW = """
SELECT count(*)::bigint AS views_with_dwell,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY engaged_ms) AS median_engaged_ms,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY wall_ms) AS median_wall_ms
FROM view_dwell
WHERE asset_id = $1 AND ($2::date IS NULL OR day >= $2)
"""

REJECTED_BY_REASON = """
SELECT reason, count(*)::bigint AS n FROM rejected_events
WHERE ($1::timestamptz IS NULL OR received_at >= $1)
GROUP BY reason ORDER BY reason
"""


def _asset_row(row: asyncpg.Record) -> dict[str, Any]:
    return dict(row)


async def insert_asset(pool: asyncpg.Pool, asset: AssetIn) -> dict[str, Any] | None:
    """The new asset, or None when the id is taken."""
    row = await pool.fetchrow(
        INSERT_ASSET, asset.id, asset.title, asset.type, str(asset.url), asset.owner_email
    )
    return _asset_row(row) if row else None


async def upsert_assets(pool: asyncpg.Pool, assets: Sequence[AssetIn]) -> tuple[int, int]:
    """Insert or update; returns (inserted, updated)."""
    rows = await pool.fetch(
        UPSERT_ASSETS,
        [a.id for a in assets],
        [a.title for a in assets],
        [a.type for a in assets],
        [str(a.url) for a in assets],
        [a.owner_email for a in assets],
    )
    inserted = sum(1 for r in rows if r["inserted"])
    return inserted, len(rows) - inserted


async def fetch_asset(pool: asyncpg.Pool, asset_id: str) -> dict[str, Any] | None:
    row = await pool.fetchrow(SELECT_ASSET, asset_id)
    return _asset_row(row) if row else None


async def list_assets(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    return [_asset_row(r) for r in await pool.fetch(LIST_ASSETS)]


async def fetch_usage_rows(
    pool: asyncpg.Pool, asset_id: str, since: date | None
) -> tuple[list[asyncpg.Record], list[asyncpg.Record], asyncpg.Record]:
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        counters = await conn.fetch(USAGE_BY_DEVICE, asset_id, since)
        uniques = await conn.fetch(UNIQUES_BY_DEVICE, asset_id, since)
        dwell = await conn.fetchrow(DWELL_PER_VIEW, asset_id, since)
    return counters, uniques, dwell


async def rejected_summary(pool: asyncpg.Pool, since: Any) -> dict[str, int]:
    return {r["reason"]: r["n"] for r in await pool.fetch(REJECTED_BY_REASON, since)}
