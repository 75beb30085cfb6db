"""Rate limits at the edge (the `limits` library): per client on the pixel, download and
page-script paths, per key on the API. Counted with the sliding-window counter: O(1)
memory per client and limit (a moving window would keep one entry per hit), and close to
a moving window in what it allows.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from enum import StrEnum

from limits import RateLimitItem, parse, parse_many
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string

from .settings import IngestSettings

__all__ = ["Bucket", "Throttle", "client_key"]

#: At most this many rate-limited hits a second are also published to ``events-rejected``
#: (all of them count in the metric): a flood must not become a flood on the bus too.
_RECORDS_PER_SECOND = "50/second"


class Bucket(StrEnum):
    PIXEL = "pixel"
    BEACON = "beacon"
    API_KEY = "api_key"
    #: Views and downloads of one asset by one client, on every keyless path.
    ASSET = "asset"


def client_key(salt: bytes, ip: str) -> str:
    """Who a client is for its limits: a hash of its IP under the day's salt, so neither the
    counters' store nor a shared Redis ever holds an IP. Not the viewer hash: that one
    includes the User-Agent, which a flooder can change at will."""
    return hmac.new(salt, f"limit\x00{ip}".encode(), hashlib.sha256).hexdigest()[:32]


class Throttle:
    def __init__(self, settings: IngestSettings) -> None:
        storage = storage_from_string(settings.rate_limit_storage_uri)
        self._limiter = SlidingWindowCounterRateLimiter(storage)  # type: ignore[arg-type]
        self._limits: dict[Bucket, list[RateLimitItem]] = {
            Bucket.PIXEL: parse_many(settings.rate_limit_pixel),
            Bucket.BEACON: parse_many(settings.rate_limit_beacon),
            Bucket.API_KEY: parse_many(settings.rate_limit_api_key),
            Bucket.ASSET: parse_many(settings.rate_limit_asset),
        }
        self._records = parse(_RECORDS_PER_SECOND)

    async def retry_after(self, bucket: Bucket, who: str, cost: int = 1) -> int | None:
        """Spend ``cost`` hits of ``who``'s limits; None when they allow it, else the seconds
        to wait (for ``Retry-After``). A refused request spends nothing."""
        items = self._limits[bucket]
        for item in items:
            if not await self._limiter.test(item, bucket.value, who, cost=cost):
                stats = await self._limiter.get_window_stats(item, bucket.value, who)
                return max(1, math.ceil(stats.reset_time - time.time()))
        for item in items:
            await self._limiter.hit(item, bucket.value, who, cost=cost)
        return None

    async def may_record(self) -> bool:
        """Whether one more limited hit may go to ``events-rejected`` this second."""
        return await self._limiter.hit(self._records, "limited-records")
