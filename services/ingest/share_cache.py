"""Ingest's cached view of the share links, so an open never waits on the database.

Every link's asset, gate, creation, expiry and revocation (never its recipient) is reloaded
every CATALOG_REFRESH_SECONDS: a revoked link answers 410 at most that long after the rep
revoked it; an expiry is checked on each open against the clock, so it is exact. A link
made since the last refresh (the rep trying it at once) is looked up once by id; "no such
link" is remembered for a second and such lookups are capped per second, so spraying
random ids cannot become a database load.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import asyncpg

from shared.observability import db_timer
from shared.periodic import Periodic

from .misses import Misses
from .reads.ratings import share_link, share_links

__all__ = ["LinkState", "ShareLink", "ShareLinkCache"]

log = logging.getLogger(__name__)

#: Far above any honest rate of links made in one refresh interval.
_MAX_LOOKUPS_PER_SECOND = 50


class LinkState(StrEnum):
    OPEN = "open"
    REVOKED = "revoked"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class ShareLink:
    """What an open needs of a link."""

    id: str
    asset_id: str
    email_gate: bool
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    def state(self, now: datetime) -> LinkState:
        if self.revoked_at is not None:
            return LinkState.REVOKED
        if self.expires_at is not None and self.expires_at <= now:
            return LinkState.EXPIRED
        return LinkState.OPEN

    @classmethod
    def of(cls, row: asyncpg.Record) -> ShareLink:
        return cls(row["id"], row["asset_id"], row["email_gate"], row["created_at"],
                   row["expires_at"], row["revoked_at"])


class ShareLinkCache:
    def __init__(self, pool: asyncpg.Pool, refresh_seconds: float) -> None:
        self._pool = pool
        self._links: dict[str, ShareLink] = {}
        self._misses = Misses("share_link", _MAX_LOOKUPS_PER_SECOND)
        self._refresh = Periodic("share-link-refresh", refresh_seconds, self.reload)

    async def start(self) -> None:
        await self.reload()
        self._refresh.start()

    async def stop(self) -> None:
        await self._refresh.stop()

    async def reload(self) -> None:
        with db_timer("ingest", "share_links_refresh"):
            rows = await share_links(self._pool)
        self._links = {row["id"]: ShareLink.of(row) for row in rows}
        self._misses.clear()

    async def find(self, link_id: str) -> ShareLink | None:
        """The link, or None when there is no such link (as far as we may ask now)."""
        link = self._links.get(link_id)
        if link is not None:
            return link
        row = await self._misses.look_up(link_id, lambda key: share_link(self._pool, key))
        if row is None:
            return None
        self._links[link_id] = found = ShareLink.of(row)
        return found
