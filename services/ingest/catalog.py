"""Ingest's cached view of the asset catalog, so the hot path never waits on the database.

The whole id → url map is reloaded every few seconds. A miss (say, an asset created a
moment ago) is looked up once by id; the answer "unknown" is remembered for a second, and
misses are capped per second, so spraying unknown ids cannot become a database load.
"""

from __future__ import annotations

import asyncio
import logging
import time

import asyncpg

from shared.observability import db_timer

from .reads.ratings import asset_url, asset_urls

__all__ = ["CatalogCache"]

log = logging.getLogger(__name__)

#: How long an id stays known-unknown before we ask the database again.
_NEGATIVE_TTL_SECONDS = 1.0
#: At most this many miss lookups per second reach the database; the rest wait for the
#: next refresh. 100/s is far above any honest rate of brand-new assets.
_MAX_LOOKUPS_PER_SECOND = 100
_MAX_NEGATIVE_ENTRIES = 10_000


class CatalogCache:
    def __init__(self, pool: asyncpg.Pool, refresh_seconds: float) -> None:
        self._pool = pool
        self._refresh_seconds = refresh_seconds
        self._urls: dict[str, str] = {}
        self._unknown_until: dict[str, float] = {}
        self._lookup_window = (0.0, 0)  # (second started, lookups in it)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.reload()
        self._task = asyncio.create_task(self._refresh_forever(), name="catalog-refresh")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def reload(self) -> None:
        self._urls = await asset_urls(self._pool)

    async def url_for(self, asset_id: str) -> str | None:
        """The asset's url, or None when the asset is unknown."""
        url = self._urls.get(asset_id)
        if url is not None:
            return url
        now = time.monotonic()
        if self._unknown_until.get(asset_id, 0.0) > now or not self._may_look_up(now):
            return None
        try:
            with db_timer("ingest", "catalog_lookup"):
                url = await asset_url(self._pool, asset_id)
        except (OSError, asyncpg.PostgresError):
            log.warning("catalog lookup failed; treating the asset as unknown for now")
            return None
        if url is None:
            if len(self._unknown_until) >= _MAX_NEGATIVE_ENTRIES:
                self._unknown_until.clear()
            self._unknown_until[asset_id] = now + _NEGATIVE_TTL_SECONDS
        else:
            self._urls[asset_id] = url
        return url

    def _may_look_up(self, now: float) -> bool:
        started, count = self._lookup_window
        if now - started >= 1.0:
            started, count = now, 0
        if count >= _MAX_LOOKUPS_PER_SECOND:
            return False
        self._lookup_window = (started, count + 1)
        return True

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_seconds)
            try:
                with db_timer("ingest", "catalog_refresh"):
                    await self.reload()
                self._unknown_until.clear()
            except (OSError, asyncpg.PostgresError):
                log.warning("catalog refresh failed; serving the cached copy")
