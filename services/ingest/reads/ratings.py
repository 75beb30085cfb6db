"""Ingest's only reads of tables the ratings service owns: each asset's id and url.

The catalog cache (:mod:`services.ingest.catalog`) runs these; nothing on the hot path does.
"""

from __future__ import annotations

import asyncpg

__all__ = ["ASSET_URL", "ASSET_URLS", "asset_url", "asset_urls"]

ASSET_URLS = "SELECT id, url FROM assets"
ASSET_URL = "SELECT url FROM assets WHERE id = $1"


async def asset_urls(pool: asyncpg.Pool) -> dict[str, str]:
    """Every asset's url, by id."""
    return {row["id"]: row["url"] for row in await pool.fetch(ASSET_URLS)}


async def asset_url(pool: asyncpg.Pool, asset_id: str) -> str | None:
    return await pool.fetchval(ASSET_URL, asset_id)  # type: ignore[no-any-return]
