"""Anonymous unique viewers, as Plausible counts them: a hash of a daily salt, the IP and
the User-Agent. The salt is random, shared by ingest replicas through PostgreSQL, and
deleted after two days, so nobody (us included) can recompute an old hash. The raw IP is
used for the hash and nowhere else.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from datetime import date

import asyncpg

from .store import salt_for_day

__all__ = ["DailySalts", "anonymous_viewer_id"]


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
            self._salt = await salt_for_day(self._pool, day, os.urandom(32))
            self._day = day
        return self._salt
