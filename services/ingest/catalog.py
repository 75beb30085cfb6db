"""Ingest's cached view of the asset catalog, so the hot path never waits on the database.

The whole id → url map is reloaded every few seconds; a miss (say, an asset created a
moment ago) is looked up by id through :class:`~services.ingest.misses.Misses`.
"""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from shared.observability import db_timer

from .misses import Misses
from .reads.ratings import asset_url, asset_urls, assets_with_files

__all__ = ["CatalogCache"]

log = logging.getLogger(__name__)

#: At most this many miss lookups per second reach the database; the rest wait for the
#: next refresh. 100/s is far above any honest rate of brand-new assets.
_MAX_LOOKUPS_PER_SECOND = 100


class CatalogCache:
    def __init__(self, pool: asyncpg.Pool, refresh_seconds: float) -> None:
        self._pool = pool
        self._refresh_seconds = refresh_seconds
        self._urls: dict[str, str] = {}
        self._with_files: frozenset[str] = frozenset()
        self._misses = Misses("catalog", _MAX_LOOKUPS_PER_SECOND)
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
        self._with_files = await assets_with_files(self._pool)

    def has_file(self, asset_id: str) -> bool:
        """Whether the asset had a file at the last refresh (the viewer can show it)."""
        return asset_id in self._with_files

    async def url_for(self, asset_id: str) -> str | None:
        """The asset's url, or None when the asset is unknown."""
        url = self._urls.get(asset_id)
        if url is not None:
            return url
        url = await self._misses.look_up(asset_id, lambda key: asset_url(self._pool, key))
        if url is not None:
            self._urls[asset_id] = url
        return url

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_seconds)
            try:
                with db_timer("ingest", "catalog_refresh"):
                    await self.reload()
                self._misses.clear()
            except (OSError, asyncpg.PostgresError):
                log.warning("catalog refresh failed; serving the cached copy")
