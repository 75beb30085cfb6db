"""SQL of the asset catalog: assets and who viewed them lately (tables ratings owns)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

import asyncpg

from ..identity.models import Role
from ..identity.store import find_or_create_user
from .models import AssetIn

__all__ = [
    "ASSET_EXISTS",
    "asset_snapshot",
    "delete_asset",
    "fetch_asset",
    "insert_asset",
    "list_assets",
    "list_owners",
    "record_view",
    "update_asset",
    "upsert_assets",
]

_ASSET_COLUMNS = (
    "a.id, a.title, a.type, a.url, a.owner_email, a.owner_id, a.tags, a.stage, "
    "a.created_at, a.updated_at"
)
INSERT_ASSET = """
INSERT INTO assets (id, title, type, url, owner_email, owner_id, tags, stage)
VALUES ($1, $2, $3, $4, lower($5), $6, $7, $8)
ON CONFLICT (id) DO NOTHING
RETURNING id
"""

UPSERT_ASSETS = """
INSERT INTO assets (id, title, type, url, owner_email, owner_id, tags, stage)
SELECT i.id, i.title, i.type, i.url, lower(i.owner_email), u.id, i.tags::text[], i.stage
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
     AS i(id, title, type, url, owner_email, tags, stage)
JOIN users u ON u.email = lower(i.owner_email)
ON CONFLICT (id) DO UPDATE SET
    title = excluded.title, type = excluded.type, url = excluded.url,
    owner_email = excluded.owner_email, owner_id = excluded.owner_id, tags = excluded.tags,
    stage = excluded.stage, updated_at = now()
RETURNING (xmax = 0) AS inserted
"""

UPDATE_ASSET = """
UPDATE assets SET title = $2, type = $3, url = $4, owner_email = lower($5), owner_id = $6,
                  tags = $7, stage = $8, updated_at = now()
WHERE id = $1 RETURNING id
"""
DELETE_ASSET = "DELETE FROM assets WHERE id = $1 RETURNING id"

SELECT_ASSET = f"""
SELECT {_ASSET_COLUMNS}, r.stars AS my_stars, r.comment AS my_comment
FROM assets a LEFT JOIN ratings r ON r.asset_id = a.id AND r.user_id = $2
WHERE a.id = $1
"""
LIST_ASSETS = f"""
SELECT {_ASSET_COLUMNS}, r.stars AS my_stars, v.viewed_at AS my_last_view
FROM assets a
LEFT JOIN ratings r ON r.asset_id = a.id AND r.user_id = $1
LEFT JOIN recently_viewed v ON v.asset_id = a.id AND v.user_id = $1
WHERE ($2::text IS NULL OR a.title ILIKE '%' || $2 || '%' OR a.id ILIKE '%' || $2 || '%'
       OR $2 = ANY(a.tags))
  AND ($3::text IS NULL OR a.type = $3)
  AND ($4::text IS NULL OR a.stage = $4)
  AND ($5::text IS NULL OR $5 = ANY(a.tags))
  AND (NOT $6 OR v.viewed_at IS NOT NULL)
ORDER BY CASE WHEN $6 THEN v.viewed_at END DESC NULLS LAST, a.title
LIMIT 500
"""
RECORD_VIEW = """
INSERT INTO recently_viewed (user_id, asset_id) VALUES ($1, $2)
ON CONFLICT (user_id, asset_id) DO UPDATE SET viewed_at = now()
"""
OWNERS = "SELECT DISTINCT owner_email FROM assets ORDER BY owner_email"
ASSET_EXISTS = "SELECT EXISTS (SELECT 1 FROM assets WHERE id = $1)"


def _asset_row(row: asyncpg.Record) -> dict[str, Any]:
    return dict(row)


async def _owner_id(conn: asyncpg.Connection | asyncpg.Pool, email: str) -> int:
    return (await find_or_create_user(conn, email, Role.MARKETING)).id


async def _write_asset(pool: asyncpg.Pool, statement: str, asset: AssetIn) -> dict[str, Any] | None:
    """Run INSERT_ASSET or UPDATE_ASSET with the owner resolved to a user; the asset as
    stored, or None when the statement touched no row."""
    async with pool.acquire() as conn, conn.transaction():
        owner = await _owner_id(conn, asset.owner_email)
        written = await conn.fetchval(
            statement, asset.id, asset.title, asset.type, str(asset.url),
            asset.owner_email, owner, asset.tags, asset.stage,
        )
    return await fetch_asset(pool, asset.id) if written else None


async def insert_asset(pool: asyncpg.Pool, asset: AssetIn) -> dict[str, Any] | None:
    """The new asset, or None when the id is taken."""
    return await _write_asset(pool, INSERT_ASSET, asset)


async def update_asset(pool: asyncpg.Pool, asset: AssetIn) -> dict[str, Any] | None:
    """The updated asset, or None when there is no asset with that id."""
    return await _write_asset(pool, UPDATE_ASSET, asset)


async def delete_asset(pool: asyncpg.Pool, asset_id: str) -> bool:
    return await pool.fetchval(DELETE_ASSET, asset_id) is not None


async def upsert_assets(pool: asyncpg.Pool, assets: Sequence[AssetIn]) -> tuple[int, int]:
    """Insert or update in one transaction; returns (inserted, updated)."""
    async with pool.acquire() as conn, conn.transaction():
        for email in sorted({a.owner_email.lower() for a in assets}):
            await _owner_id(conn, email)
        rows = await conn.fetch(
            UPSERT_ASSETS,
            [a.id for a in assets],
            [a.title for a in assets],
            [a.type for a in assets],
            [str(a.url) for a in assets],
            [a.owner_email for a in assets],
            # Tags match ^[a-z0-9][a-z0-9 _-]*$, so quoting them into an array literal is safe.
            ["{" + ",".join(f'"{t}"' for t in a.tags) + "}" for a in assets],
            [a.stage for a in assets],
        )
    inserted = sum(1 for r in rows if r["inserted"])
    return inserted, len(rows) - inserted


async def fetch_asset(
    pool: asyncpg.Pool, asset_id: str, user_id: int | None = None
) -> dict[str, Any] | None:
    row = await pool.fetchrow(SELECT_ASSET, asset_id, user_id)
    return _asset_row(row) if row else None


async def record_view(pool: asyncpg.Pool, user_id: int, asset_id: str) -> None:
    await pool.execute(RECORD_VIEW, user_id, asset_id)


async def list_assets(
    pool: asyncpg.Pool,
    user_id: int | None = None,
    *,
    q: str | None = None,
    asset_type: str | None = None,
    stage: str | None = None,
    tag: str | None = None,
    recent: bool = False,
) -> list[dict[str, Any]]:
    rows = await pool.fetch(LIST_ASSETS, user_id, q, asset_type, stage, tag, recent)
    return [_asset_row(r) for r in rows]


async def list_owners(pool: asyncpg.Pool) -> list[str]:
    """Every asset owner, for the board's owner filter."""
    return [r["owner_email"] for r in await pool.fetch(OWNERS)]


@contextlib.asynccontextmanager
async def asset_snapshot(
    pool: asyncpg.Pool, asset_id: str
) -> AsyncIterator[asyncpg.Connection | None]:
    """A connection in one read-only, repeatable-read snapshot, or None when there is no
    such asset: a 404 and the figures read through it never disagree."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        yield conn if await conn.fetchval(ASSET_EXISTS, asset_id) else None
