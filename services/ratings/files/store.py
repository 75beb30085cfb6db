"""SQL of asset files (asset_files, a table ratings owns; ingest reads it): one row per
version, numbered 1, 2, ... per asset, each a PDF (pages) or an MP4 video (duration_ms).
The bytes are in the file store (shared/files.py)."""

from __future__ import annotations

from typing import Any

import asyncpg

__all__ = ["EXTENSIONS", "insert_version", "list_media", "list_versions", "storage_key"]

#: The stored file's extension by content type.
EXTENSIONS = {"application/pdf": "pdf", "video/mp4": "mp4"}

_COLUMNS = ("version, pages, duration_ms, bytes, sha256, filename, content_type, uploaded_by, "
            "uploaded_at")

# Run while the asset row is locked (catalog.store.asset_for_change): two uploads at once
# take turns, so max(version) + 1 is never taken twice.
INSERT_VERSION = f"""
INSERT INTO asset_files (asset_id, version, storage_key, content_type, bytes, pages,
                         duration_ms, sha256, filename, uploaded_by)
SELECT $1, coalesce(max(version), 0) + 1, $2, $3, $4, $5, $6, $7, $8, $9
FROM asset_files WHERE asset_id = $1
RETURNING {_COLUMNS}
"""
LIST_VERSIONS = f"""
SELECT {_COLUMNS} FROM asset_files WHERE asset_id = $1 ORDER BY version DESC
"""


def storage_key(asset_id: str, sha256: str, content_type: str) -> str:
    """Named by content: the same bytes uploaded twice share one stored file, and a key
    never changes what it holds."""
    return f"assets/{asset_id}/{sha256}.{EXTENSIONS[content_type]}"


async def insert_version(conn: asyncpg.Connection, asset_id: str, *, key: str,
                         content_type: str, size: int, pages: int | None,
                         duration_ms: int | None, sha256: str, filename: str | None,
                         uploaded_by: int) -> dict[str, Any]:
    """A PDF's row has pages, a video's duration_ms (the table's kind check holds them)."""
    row = await conn.fetchrow(INSERT_VERSION, asset_id, key, content_type, size, pages,
                              duration_ms, sha256, filename, uploaded_by)
    return dict(row)


async def list_versions(pool: asyncpg.Pool, asset_id: str) -> list[dict[str, Any]]:
    return [dict(row) for row in await pool.fetch(LIST_VERSIONS, asset_id)]


# What each version is, for the analytics: a PDF's pages or a video's length.
LIST_MEDIA = """
SELECT version, content_type, pages, duration_ms, uploaded_at FROM asset_files
WHERE asset_id = $1 ORDER BY version DESC
"""


async def list_media(conn: asyncpg.Pool | asyncpg.Connection,
                     asset_id: str) -> list[dict[str, Any]]:
    """Every version, newest first, with its kind, pages (PDF) or duration_ms (video) and
    uploaded_at; takes a connection, to be read in the same snapshot as the figures."""
    return [dict(row) for row in await conn.fetch(LIST_MEDIA, asset_id)]
