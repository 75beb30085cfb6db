"""Rate limits at the edge (shared/rate_limits.py, the `limits` library): per client on the
pixel, download and page-script paths, per client and asset on all three, per key on the
API.
"""

from __future__ import annotations

import hashlib
import hmac
from enum import StrEnum

from shared.rate_limits import RateLimits, Spend

from .settings import IngestSettings

__all__ = ["Bucket", "Throttle", "client_key"]

#: At most this many rate-limited hits a second are also published to ``events-rejected``
#: (all of them count in the metric): a flood must not become a flood on the bus too.
_RECORDS = [Spend("50/second", "limited-records", "all")]


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
    """The edge's buckets over :class:`shared.rate_limits.RateLimits`."""

    def __init__(self, settings: IngestSettings) -> None:
        self._limits = RateLimits(settings.rate_limit_storage_uri)
        self._notation: dict[Bucket, str] = {
            Bucket.PIXEL: settings.rate_limit_pixel,
            Bucket.BEACON: settings.rate_limit_beacon,
            Bucket.API_KEY: settings.rate_limit_api_key,
            Bucket.ASSET: settings.rate_limit_asset,
        }

    async def retry_after(self, bucket: Bucket, who: str, cost: int = 1) -> int | None:
        """Spend ``cost`` hits of ``who``'s limits; None when they allow it, else the seconds
        to wait (for ``Retry-After``). A refused request spends nothing."""
        return await self._limits.retry_after([Spend(self._notation[bucket], bucket.value, who)],
                                              cost)

    async def may_record(self) -> bool:
        """Whether one more limited hit may go to ``events-rejected`` this second."""
        return await self._limits.retry_after(_RECORDS) is None
