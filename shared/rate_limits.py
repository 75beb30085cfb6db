"""Rate limits with the `limits` library, for any service: several limits checked together,
spent only when all of them allow the request, and the seconds to wait when one does not
(for ``Retry-After``). Counted with the sliding-window counter: O(1) memory per key and
limit (a moving window keeps one entry per hit), and close to a moving window in what it
allows.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated

from limits import RateLimitItem, parse_many
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string
from pydantic import AfterValidator

__all__ = ["LimitNotation", "RateLimits", "Spend"]


def _parses(value: str) -> str:
    parse_many(value)  # raises ValueError on a typo, so a bad limit stops the service
    return value


#: A setting in the library's notation, "N/minute;M/hour", checked when settings load.
LimitNotation = Annotated[str, AfterValidator(_parses)]


@dataclass(frozen=True)
class Spend:
    """One thing a request counts against: ``key`` (hashed by the caller, never an IP or an
    address) under ``namespace``, with every limit in ``notation``."""

    notation: str
    namespace: str
    key: str

    @property
    def items(self) -> list[RateLimitItem]:
        return _parsed(self.notation)


@lru_cache(maxsize=64)
def _parsed(notation: str) -> list[RateLimitItem]:
    """Parsed once per notation: a spend is made per request, on the pixel's hot path."""
    return parse_many(notation)


class RateLimits:
    """Counters in ``storage_uri`` (``async+memory://``: per process; or a shared Redis)."""

    def __init__(self, storage_uri: str) -> None:
        storage = storage_from_string(storage_uri)
        self._limiter = SlidingWindowCounterRateLimiter(storage)  # type: ignore[arg-type]

    async def retry_after(self, spends: Sequence[Spend], cost: int = 1) -> int | None:
        """Spend ``cost`` of every limit in ``spends``: None when they all allow it, else the
        longest wait, in whole seconds, until every refusing one would. A refused request
        spends nothing, so a client that keeps asking is not locked out for longer."""
        waits = []
        for spend in spends:
            for item in spend.items:
                if not await self._limiter.test(item, spend.namespace, spend.key, cost=cost):
                    stats = await self._limiter.get_window_stats(item, spend.namespace,
                                                                 spend.key)
                    waits.append(max(1, math.ceil(stats.reset_time - time.time())))
        if waits:
            return max(waits)
        for spend in spends:
            for item in spend.items:
                await self._limiter.hit(item, spend.namespace, spend.key, cost=cost)
        return None
