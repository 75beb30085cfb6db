"""Read rating histograms from the aggregator's ``rating_daily``, never from ``ratings``.

One read-only, repeatable-read transaction answers "does the asset exist" and every
window's histogram for the asset and for the whole catalog, so the asset's figures and
the prior it is compared with come from the same snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import asyncpg

__all__ = ["WindowCounts", "fetch_window_counts"]

ASSET_EXISTS = "SELECT EXISTS (SELECT 1 FROM assets WHERE id = $1)"

# Catalog-wide sums join ``assets``: rows of a deleted asset (its ratings go with it,
# without events) must not keep weighing on everyone's prior. A sum can only be negative
# while a replacement overtakes the rating it replaces; it is read as zero.
WINDOW_COUNTS = """
SELECT w.name AS window, d.stars,
       greatest(coalesce(sum(d.ratings) FILTER (WHERE d.asset_id = $1), 0), 0)::bigint
           AS asset_ratings,
       greatest(sum(d.ratings), 0)::bigint AS catalog_ratings
FROM unnest($2::text[], $3::date[]) AS w(name, since)
JOIN rating_daily d ON w.since IS NULL OR d.day >= w.since
JOIN assets a ON a.id = d.asset_id
GROUP BY w.name, d.stars
"""


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
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        if not await conn.fetchval(ASSET_EXISTS, asset_id):
            return None
        rows = await conn.fetch(WINDOW_COUNTS, asset_id, names, [windows[n] for n in names])
    return {
        name: WindowCounts(
            asset={r["stars"]: r["asset_ratings"] for r in rows if r["window"] == name},
            catalog={r["stars"]: r["catalog_ratings"] for r in rows if r["window"] == name},
        )
        for name in names
    }
