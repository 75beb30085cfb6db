"""SQL of asset files (asset_files, a table ratings owns; ingest reads it): one row per
version, numbered 1, 2, ... per asset. The bytes are in the file store (shared/files.py)."""

from __future__ import annotations

from typing import Any

import asyncpg

__all__ = ["insert_version", "list_versions", "storage_key"]

_COLUMNS = "version, pages, bytes, sha256, filename, content_type, uploaded_by, uploaded_at"

# Run while the asset row is locked (catalog.store.asset_for_change): two uploads at once
# take turns, so max(version) + 1 is never taken twice.
INSERT_VERSION = f"""
INSERT INTO asset_files (asset_id, version, storage_key, content_type, bytes, pages, sha256,
                         filename, uploaded_by)
SELECT $1, coalesce(max(version), 0) + 1, $2, 'application/pdf', $3, $4, $5, $6, $7
FROM asset_files WHERE asset_id = $1
RETURNING {_COLUMNS}
"""
LIST_VERSIONS = f"""
SELECT {_COLUMNS} FROM asset_files WHERE asset_id = $1 ORDER BY version DESC
"""


def storage_key(asset_id: str, sha256: str) -> str:
    """Named by content: the same bytes uploaded twice share one stored file, and a key
    never changes what it holds."""
    return f"assets/{asset_id}/{sha256}.pdf"


async def insert_version(conn: asyncpg.Connection, asset_id: str, *, key: str, size: int,
                         pages: int, sha256: str, filename: str | None,
                         uploaded_by: int) -> dict[str, Any]:
    row = await conn.fetchrow(INSERT_VERSION, asset_id, key, size, pages, sha256, filename,
                              uploaded_by)
    return dict(row)


async def list_versions(pool: asyncpg.Pool, asset_id: str) -> list[dict[str, Any]]:
    return [dict(row) for row in await pool.fetch(LIST_VERSIONS, asset_id)]
