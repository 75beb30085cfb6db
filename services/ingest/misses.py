"""Misses of ingest's caches, looked up one id at a time without becoming a database load.

A cache reloads its whole table every few seconds. An id it does not hold (an asset or a
share link made a moment ago) is asked of PostgreSQL once; the answer "no such id" is
remembered for a second, and such lookups are capped per second, so spraying random ids
costs the database nothing more.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg

from shared.observability import db_timer

__all__ = ["Misses"]

log = logging.getLogger(__name__)

T = TypeVar("T")

#: How long an id stays known-unknown before the database is asked again.
_NEGATIVE_TTL_SECONDS = 1.0
_MAX_NEGATIVE_ENTRIES = 10_000


class Misses:
    """The ids recently found missing, and the lookups spent this second."""

    def __init__(self, name: str, per_second: int) -> None:
        self._name = name
        self._per_second = per_second
        self._unknown_until: dict[str, float] = {}
        self._window = (0.0, 0)  # (second started, lookups in it)

    def clear(self) -> None:
        """After a reload: every id gets asked about again."""
        self._unknown_until.clear()

    async def look_up(self, key: str, lookup: Callable[[str], Awaitable[T | None]]) -> T | None:
        """``lookup(key)``'s answer, unless ``key`` was missing a moment ago, the second's
        lookups are spent, or the database fails (then None, as for a missing id)."""
        now = time.monotonic()
        if self._unknown_until.get(key, 0.0) > now or not self._may_look_up(now):
            return None
        try:
            with db_timer("ingest", f"{self._name}_lookup"):
                found = await lookup(key)
        except (OSError, asyncpg.PostgresError):
            log.warning("%s lookup failed; treating the id as unknown for now", self._name)
            return None
        if found is None:
            if len(self._unknown_until) >= _MAX_NEGATIVE_ENTRIES:
                self._unknown_until.clear()
            self._unknown_until[key] = now + _NEGATIVE_TTL_SECONDS
        return found

    def _may_look_up(self, now: float) -> bool:
        started, count = self._window
        if now - started >= 1.0:
            started, count = now, 0
        self._window = (started, min(count + 1, self._per_second))
        return count < self._per_second
