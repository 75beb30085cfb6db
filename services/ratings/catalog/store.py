"""SQL of the asset catalog: assets and who viewed them lately (tables ratings owns).

A deleted asset keeps its row with ``deleted_at`` set (migration 0011): every read here
leaves it out, and its id is never reused. Owners are existing users: nothing here
creates an account.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

import asyncpg

from .models import AssetIn, CatalogRefusal

__all__ = [
    "ASSET_EXISTS",
    "asset_for_change",
    "asset_snapshot",
    "fetch_asset",
    "insert_asset",
    "list_assets",
    "list_owners",
    "mark_deleted",
    "record_view",
    "update_asset",
    "upsert_assets",
    "was_deleted",
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

# Owners must be users already: the JOIN keeps rows whose owner is one, and upsert_assets
# refuses the whole import before this runs when any is not. A deleted asset stays deleted.
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
WHERE assets.deleted_at IS NULL
RETURNING (xmax = 0) AS inserted
"""
ACTIVE_OWNERS = """
SELECT email FROM users WHERE email = any($1::text[]) AND deactivated_at IS NULL
"""
DELETED_AMONG = """
SELECT id FROM assets WHERE id = any($1::text[]) AND deleted_at IS NOT NULL ORDER BY id
"""

# Who may change an asset is decided on this locked row, in the change's own transaction.
# FOR UPDATE also makes a rating being added (which takes FOR KEY SHARE, rating/store.py)
# wait for a deletion to commit, then find the asset deleted.
LOCK_ASSET = """
SELECT id, owner_id, owner_email FROM assets WHERE id = $1 AND deleted_at IS NULL FOR UPDATE
"""
UPDATE_ASSET = """
UPDATE assets SET title = $2, type = $3, url = $4, owner_email = lower($5), owner_id = $6,
                  tags = $7, stage = $8, updated_at = now()
WHERE id = $1 AND deleted_at IS NULL
"""
MARK_DELETED = """
UPDATE assets SET deleted_at = now(), updated_at = now() WHERE id = $1 AND deleted_at IS NULL
"""
WAS_DELETED = "SELECT deleted_at IS NOT NULL FROM assets WHERE id = $1"

SELECT_ASSET = f"""
SELECT {_ASSET_COLUMNS}, r.stars AS my_stars, r.comment AS my_comment
FROM assets a LEFT JOIN ratings r ON r.asset_id = a.id AND r.user_id = $2
WHERE a.id = $1 AND a.deleted_at IS NULL
"""
LIST_ASSETS = f"""
SELECT {_ASSET_COLUMNS}, r.stars AS my_stars, v.viewed_at AS my_last_view
FROM assets a
LEFT JOIN ratings r ON r.asset_id = a.id AND r.user_id = $1
LEFT JOIN recently_viewed v ON v.asset_id = a.id AND v.user_id = $1
WHERE a.deleted_at IS NULL
  AND ($2::text IS NULL OR a.title ILIKE '%' || $2 || '%' OR a.id ILIKE '%' || $2 || '%'
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
OWNERS = "SELECT DISTINCT owner_email FROM assets WHERE deleted_at IS NULL ORDER BY owner_email"
ASSET_EXISTS = "SELECT EXISTS (SELECT 1 FROM assets WHERE id = $1 AND deleted_at IS NULL)"


def _asset_row(row: asyncpg.Record) -> dict[str, Any]:
    return dict(row)


def _asset_values(asset: AssetIn, owner_id: int | None) -> tuple[object, ...]:
    return (asset.id, asset.title, asset.type, str(asset.url), asset.owner_email, owner_id,
            asset.tags, asset.stage)


async def insert_asset(pool: asyncpg.Pool, asset: AssetIn, owner_id: int) -> dict[str, Any] | None:
    """The new asset, owned by the user ``owner_id``; None when the id is taken (also by a
    deleted asset: ids are never reused)."""
    if await pool.fetchval(INSERT_ASSET, *_asset_values(asset, owner_id)) is None:
        return None
    return await fetch_asset(pool, asset.id)


async def was_deleted(pool: asyncpg.Pool, asset_id: str) -> bool:
    return bool(await pool.fetchval(WAS_DELETED, asset_id))


@contextlib.asynccontextmanager
async def asset_for_change(
    pool: asyncpg.Pool, asset_id: str
) -> AsyncIterator[tuple[asyncpg.Connection, asyncpg.Record | None]]:
    """A transaction holding the asset's row locked, and the row (id, owner_id, owner_email;
    None for no such asset): the check of who may change it and the change see one owner."""
    async with pool.acquire() as conn, conn.transaction():
        yield conn, await conn.fetchrow(LOCK_ASSET, asset_id)


async def update_asset(conn: asyncpg.Connection, asset: AssetIn, owner_id: int | None) -> None:
    """Replace the asset's fields inside ``asset_for_change``'s transaction."""
    await conn.execute(UPDATE_ASSET, *_asset_values(asset, owner_id))


async def mark_deleted(conn: asyncpg.Connection, asset_id: str) -> None:
    """Mark the asset deleted inside ``asset_for_change``'s transaction; the caller withdraws
    its ratings in the same one."""
    await conn.execute(MARK_DELETED, asset_id)


async def upsert_assets(pool: asyncpg.Pool, assets: Sequence[AssetIn]) -> tuple[int, int]:
    """Insert or update in one transaction; returns (inserted, updated). CatalogRefusal,
    with nothing written, when an owner is not an active user or an asset was deleted."""
    async with pool.acquire() as conn, conn.transaction():
        emails = sorted({a.owner_email.lower() for a in assets})
        known = {r["email"] for r in await conn.fetch(ACTIVE_OWNERS, emails)}
        errors = [f"asset {a.id!r}: owner {a.owner_email} is not an active user (add them "
                  f"first: glassboard users add {a.owner_email} --role marketing)"
                  for a in assets if a.owner_email.lower() not in known]
        errors += [f"asset {r['id']!r} was deleted; ids are never reused"
                   for r in await conn.fetch(DELETED_AMONG, [a.id for a in assets])]
        if errors:
            raise CatalogRefusal(errors)
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
