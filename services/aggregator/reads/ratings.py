"""Every statement of the aggregator that reads a table the ratings service owns (assets,
share_links).

The aggregator never writes these tables. A statement that joins ``assets`` with the
aggregator's own tables (``rating_daily``, ``asset_totals``) lives here too, whole: split
in two it would cost a round trip per batch and could see two different catalogs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import asyncpg

__all__ = ["asset_states", "forget_erased_gate_emails", "known_assets", "peer_types",
           "rating_sums", "share_links"]

# Deleted assets stay known: the withdrawals of their ratings must still apply. They are
# no one's peer and get no new state (the board has dropped them).
KNOWN_ASSETS = "SELECT id FROM assets WHERE id = any($1::text[])"

# A share link, its creator (who the visit updates are for) and whether its asset is gone.
SELECT_SHARE_LINKS = """
SELECT l.id, l.asset_id, l.creator_id, a.deleted_at IS NOT NULL AS asset_deleted
FROM share_links l JOIN assets a ON a.id = l.asset_id
WHERE l.id = any($1::text[])
"""

SELECT_PEERS = """
SELECT id, type FROM assets
WHERE deleted_at IS NULL
  AND ($1 OR type IN (SELECT type FROM assets WHERE id = any($2::text[])))
"""

# Ratings of the whole catalog (the prior needs them all), per asset, window and period.
SELECT_RATING_SUMS = """
SELECT d.asset_id, w.name AS score_window, d.day >= w.current_from AS is_current, d.stars,
       sum(d.ratings)::bigint AS ratings
FROM unnest($1::text[], $2::date[], $3::date[]) AS w(name, current_from, previous_from)
JOIN rating_daily d ON d.day >= w.previous_from AND d.day <= $4
JOIN assets a ON a.id = d.asset_id AND a.deleted_at IS NULL
GROUP BY d.asset_id, w.name, is_current, d.stars
"""

# Catalog fields, all-time usage totals (absent for an asset only ever rated) and the
# all-time rating histogram of each asset to publish.
SELECT_STATES = """
SELECT a.id AS asset_id, a.title, a.type, a.stage, a.owner_email,
       t.views, t.unique_viewers, t.downloads, t.engaged_ms, t.wall_ms, t.last_event_at,
       now() AS updated_at, r.s1, r.s2, r.s3, r.s4, r.s5
FROM unnest($1::text[]) AS k(asset_id)
JOIN assets a ON a.id = k.asset_id AND a.deleted_at IS NULL
LEFT JOIN asset_totals t ON t.asset_id = k.asset_id
CROSS JOIN LATERAL (
    SELECT coalesce(sum(d.ratings) FILTER (WHERE d.stars = 1), 0)::bigint AS s1,
           coalesce(sum(d.ratings) FILTER (WHERE d.stars = 2), 0)::bigint AS s2,
           coalesce(sum(d.ratings) FILTER (WHERE d.stars = 3), 0)::bigint AS s3,
           coalesce(sum(d.ratings) FILTER (WHERE d.stars = 4), 0)::bigint AS s4,
           coalesce(sum(d.ratings) FILTER (WHERE d.stars = 5), 0)::bigint AS s5
    FROM rating_daily d WHERE d.asset_id = k.asset_id
) r
ORDER BY a.id
"""


async def known_assets(conn: asyncpg.Connection, asset_ids: Sequence[str]) -> set[str]:
    """The ids among ``asset_ids`` that are in the catalog (events of others never count)."""
    return {r["id"] for r in await conn.fetch(KNOWN_ASSETS, asset_ids)}


async def share_links(conn: asyncpg.Connection, link_ids: Sequence[str]) -> list[asyncpg.Record]:
    """id, asset_id, creator_id and asset_deleted of each link among ``link_ids``."""
    if not link_ids:
        return []
    rows: list[asyncpg.Record] = await conn.fetch(SELECT_SHARE_LINKS, sorted(set(link_ids)))
    return rows


# A recipient erased on request (share_links.erased_at) leaves no trace in the visits: the
# gate email's hash could still be matched by someone who knows the address.
FORGET_ERASED_GATE_EMAILS = """
UPDATE link_visits v SET gate_email_hash = NULL
FROM share_links l
WHERE l.id = v.link_id AND l.erased_at IS NOT NULL AND v.gate_email_hash IS NOT NULL
"""


async def forget_erased_gate_emails(pool: asyncpg.Pool) -> int:
    """Clear the gate emails of erased recipients' visits; how many visits changed."""
    status = await pool.execute(FORGET_ERASED_GATE_EMAILS)
    return int(status.rsplit(" ", 1)[-1])  # "UPDATE <n>"


async def peer_types(
    conn: asyncpg.Connection, everything: bool, touched: Sequence[str]
) -> dict[str, str]:
    """Type per asset: the whole catalog, or the assets sharing a type with ``touched``."""
    return {r["id"]: r["type"] for r in await conn.fetch(SELECT_PEERS, everything, touched)}


async def rating_sums(
    conn: asyncpg.Connection, names: Sequence[str], starts: Sequence[date],
    previous_starts: Sequence[date], today: date,
) -> list[asyncpg.Record]:
    """Ratings per (asset, window, current or previous period, stars) of catalog assets."""
    rows: list[asyncpg.Record] = await conn.fetch(SELECT_RATING_SUMS, names, starts,
                                                 previous_starts, today)
    return rows


async def asset_states(conn: asyncpg.Connection, asset_ids: Sequence[str]) -> list[asyncpg.Record]:
    """Catalog fields, totals and all-time histogram of each asset, ordered by id."""
    rows: list[asyncpg.Record] = await conn.fetch(SELECT_STATES, asset_ids)
    return rows
