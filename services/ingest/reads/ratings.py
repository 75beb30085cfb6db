"""Ingest's only reads of tables the ratings service owns: each asset's id and url, and the
ingest keys' hashes.

The catalog cache (:mod:`services.ingest.catalog`) and the key cache
(:mod:`services.ingest.keys`) run these; nothing on the hot path does.
"""

from __future__ import annotations

import asyncpg

__all__ = ["ASSET_URL", "ASSET_URLS", "INGEST_KEYS", "asset_url", "asset_urls", "ingest_keys"]

# A deleted asset is unknown here: /d/ID stops redirecting and its hits are refused.
ASSET_URLS = "SELECT id, url FROM assets WHERE deleted_at IS NULL"
ASSET_URL = "SELECT url FROM assets WHERE id = $1 AND deleted_at IS NULL"
INGEST_KEYS = """
SELECT id, token_sha256, scopes, asset_ids, revoked_at IS NOT NULL AS revoked FROM ingest_keys
"""


async def asset_urls(pool: asyncpg.Pool) -> dict[str, str]:
    """Every asset's url, by id."""
    return {row["id"]: row["url"] for row in await pool.fetch(ASSET_URLS)}


async def asset_url(pool: asyncpg.Pool, asset_id: str) -> str | None:
    return await pool.fetchval(ASSET_URL, asset_id)  # type: ignore[no-any-return]


async def ingest_keys(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    """Every ingest key's id, token hash, scopes, assets and whether it is revoked."""
    return await pool.fetch(INGEST_KEYS)  # type: ignore[no-any-return]
