"""Anonymous unique viewers, as Plausible counts them: a hash of a daily salt, the IP and
the User-Agent. The salt is random, shared by ingest replicas through PostgreSQL, and
deleted after two days, so nobody (us included) can recompute an old hash. The raw IP is
used for the hash and nowhere else.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from datetime import date, timedelta

import asyncpg

__all__ = ["DailySalts", "anonymous_viewer_id"]

_GET_OR_CREATE_SALT = """
WITH ins AS (
    INSERT INTO daily_salts (day, salt) VALUES ($1, $2)
    ON CONFLICT (day) DO NOTHING RETURNING salt
)
SELECT salt FROM ins UNION ALL SELECT salt FROM daily_salts WHERE day = $1 LIMIT 1
"""
_PURGE_OLD_SALTS = "DELETE FROM daily_salts WHERE day < $1"


def anonymous_viewer_id(salt: bytes, ip: str, user_agent: str) -> str:
    digest = hmac.new(salt, f"{ip}\x00{user_agent}".encode(), hashlib.sha256).hexdigest()
    return f"anon:{digest[:24]}"


class DailySalts:
    """Today's salt, fetched once a day per process."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._day: date | None = None
        self._salt = b""

    async def for_day(self, day: date) -> bytes:
        if day != self._day:
            async with self._pool.acquire() as conn:
                self._salt = await conn.fetchval(_GET_OR_CREATE_SALT, day, os.urandom(32))
                await conn.execute(_PURGE_OLD_SALTS, day - timedelta(days=1))
            self._day = day
        return self._salt
