"""Ingest's cached view of the asset catalog, so the hot path never waits on the database.

The whole id → url map is reloaded every few seconds. A miss (an asset created a moment
ago) triggers an early reload, at most once a second, so spraying unknown ids cannot turn
into a database load.
"""

from __future__ import annotations

import asyncio
import logging
import time

import asyncpg

__all__ = ["CatalogCache"]

log = logging.getLogger(__name__)

_LOAD_ASSETS = "SELECT id, url FROM assets"
_MIN_RELOAD_GAP_SECONDS = 1.0


class CatalogCache:
    def __init__(self, pool: asyncpg.Pool, refresh_seconds: float) -> None:
        self._pool = pool
        self._refresh_seconds = refresh_seconds
        self._urls: dict[str, str] = {}
        self._loaded_at = 0.0
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.reload()
        self._task = asyncio.create_task(self._refresh_forever(), name="catalog-refresh")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def reload(self) -> None:
        async with self._lock:
            rows = await self._pool.fetch(_LOAD_ASSETS)
            self._urls = {row["id"]: row["url"] for row in rows}
            self._loaded_at = time.monotonic()

    async def url_for(self, asset_id: str) -> str | None:
        """The asset's url, or None when the asset is unknown."""
        url = self._urls.get(asset_id)
        if url is None and time.monotonic() - self._loaded_at >= _MIN_RELOAD_GAP_SECONDS:
            try:
                await self.reload()
            except (OSError, asyncpg.PostgresError):
                log.warning("catalog reload failed; serving the cached copy")
            url = self._urls.get(asset_id)
        return url

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_seconds)
            try:
                await self.reload()
            except (OSError, asyncpg.PostgresError):
                log.warning("catalog refresh failed; serving the cached copy")
