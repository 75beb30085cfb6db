"""Ingest's only reads of tables the ratings service owns: each asset's id and url, the
ingest keys' hashes, what /s/{id} needs of each share link, and the viewer's (/v/{id})
latest file of an asset.

The catalog cache (:mod:`services.ingest.catalog`), the key cache
(:mod:`services.ingest.keys`) and the share-link cache (:mod:`services.ingest.share_cache`)
run these; nothing on the pixel or beacon path does. The viewer (:mod:`services.ingest.viewer`)
reads an asset's latest file per request, and so does a share link's open (one indexed row).
"""

from __future__ import annotations

import asyncpg

__all__ = [
    "ASSET_URL", "ASSET_URLS", "ASSETS_WITH_FILES", "INGEST_KEYS", "LATEST_FILE", "SHARE_LINK", "SHARE_LINKS",
    "asset_url", "asset_urls", "assets_with_files", "ingest_keys", "latest_file", "share_link", "share_links",
]

# A deleted asset is unknown here: /d/ID stops redirecting and its hits are refused.
ASSET_URLS = "SELECT id, url FROM assets WHERE deleted_at IS NULL"
ASSET_URL = "SELECT url FROM assets WHERE id = $1 AND deleted_at IS NULL"
# The assets that have a file, reloaded with the catalog: a share link to one of them opens
# the viewer, decided without a database round trip on the open.
ASSETS_WITH_FILES = """
SELECT DISTINCT f.asset_id FROM asset_files f
JOIN assets a ON a.id = f.asset_id AND a.deleted_at IS NULL
"""
INGEST_KEYS = """
SELECT id, token_sha256, scopes, asset_ids, revoked_at IS NOT NULL AS revoked FROM ingest_keys
"""

# Never the recipient: ingest needs only what decides an open.
_SHARE_LINK_COLUMNS = "id, asset_id, email_gate, created_at, expires_at, revoked_at"
SHARE_LINKS = f"SELECT {_SHARE_LINK_COLUMNS} FROM share_links"
SHARE_LINK = f"SELECT {_SHARE_LINK_COLUMNS} FROM share_links WHERE id = $1"

# The newest version of a live asset's file, a PDF (pages) or an MP4 video (duration_ms):
# its links always show the latest, whichever kind it is.
LATEST_FILE = """
SELECT f.asset_id, f.version, f.storage_key, f.content_type, f.bytes, f.pages, f.duration_ms,
       f.sha256, f.filename, a.title
FROM asset_files f JOIN assets a ON a.id = f.asset_id
WHERE f.asset_id = $1 AND a.deleted_at IS NULL
ORDER BY f.version DESC
LIMIT 1
"""


async def asset_urls(pool: asyncpg.Pool) -> dict[str, str]:
    """Every asset's url, by id."""
    return {row["id"]: row["url"] for row in await pool.fetch(ASSET_URLS)}


async def assets_with_files(pool: asyncpg.Pool) -> frozenset[str]:
    return frozenset(row["asset_id"] for row in await pool.fetch(ASSETS_WITH_FILES))


async def asset_url(pool: asyncpg.Pool, asset_id: str) -> str | None:
    return await pool.fetchval(ASSET_URL, asset_id)  # type: ignore[no-any-return]


async def ingest_keys(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    """Every ingest key's id, token hash, scopes, assets and whether it is revoked."""
    return await pool.fetch(INGEST_KEYS)  # type: ignore[no-any-return]


async def share_links(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    """Every share link's asset, gate, creation, expiry and revocation."""
    return await pool.fetch(SHARE_LINKS)  # type: ignore[no-any-return]


async def share_link(pool: asyncpg.Pool, link_id: str) -> asyncpg.Record | None:
    return await pool.fetchrow(SHARE_LINK, link_id)  # type: ignore[no-any-return]


async def latest_file(pool: asyncpg.Pool, asset_id: str) -> asyncpg.Record | None:
    """The asset's newest file version and its title; None without a file (or asset)."""
    return await pool.fetchrow(LATEST_FILE, asset_id)  # type: ignore[no-any-return]
