"""SQL on the one table ingest owns: ``daily_salts``, shared by every ingest replica."""

from __future__ import annotations

from datetime import date, timedelta

import asyncpg

__all__ = ["GET_OR_CREATE_SALT", "PURGE_OLD_SALTS", "salt_for_day"]

#: The first replica to ask for a day stores its candidate; every other one reads it.
GET_OR_CREATE_SALT = """
WITH ins AS (
    INSERT INTO daily_salts (day, salt) VALUES ($1, $2)
    ON CONFLICT (day) DO NOTHING RETURNING salt
)
SELECT salt FROM ins UNION ALL SELECT salt FROM daily_salts WHERE day = $1 LIMIT 1
"""
PURGE_OLD_SALTS = "DELETE FROM daily_salts WHERE day < $1"


async def salt_for_day(pool: asyncpg.Pool, day: date, candidate: bytes) -> bytes:
    """The day's salt (``candidate`` if it is the first asked for); salts older than
    yesterday are deleted, so an old hash can never be recomputed."""
    async with pool.acquire() as conn:
        salt: bytes = await conn.fetchval(GET_OR_CREATE_SALT, day, candidate)
        await conn.execute(PURGE_OLD_SALTS, day - timedelta(days=1))
    return salt
