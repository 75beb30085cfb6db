"""Synthetic but realistic traffic: pixel requests and event envelopes.

Seeded, so two runs measure the same work. The mix follows what the product sees: mostly
views, some downloads, dwell slices that point at an earlier view, a skew towards a few
popular assets, many viewers (some anonymous, some under Do-Not-Track), three device kinds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

from shared.events import Device, DeviceClass, EventEnvelope, Source

from .http_load import get_request

__all__ = ["BenchEvents", "asset_ids", "generate_events", "pixel_requests"]

#: (User-Agent header, the device ingest's Device Detector makes of it)
USER_AGENTS: tuple[tuple[str, Device], ...] = (
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.0.0 Safari/537.36",
     Device(device_class=DeviceClass.DESKTOP, os="Windows", browser="Chrome")),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
     "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
     Device(device_class=DeviceClass.PHONE, os="iOS", browser="Mobile Safari")),
    ("Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
     "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
     Device(device_class=DeviceClass.TABLET, os="iPadOS", browser="Mobile Safari")),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 "
     "(KHTML, like Gecko) Version/17.1 Safari/605.1.15",
     Device(device_class=DeviceClass.DESKTOP, os="Mac", browser="Safari")),
)
_DEVICE_WEIGHTS = (5, 3, 1, 2)
_REFERRERS = (None, None, "mail.google.com", "outlook.office.com", "www.linkedin.com")


def asset_ids(count: int, prefix: str = "bench-asset") -> list[str]:
    return [f"{prefix}-{i:05d}" for i in range(count)]


def _popularity(count: int) -> list[float]:
    """Zipf-like: the first assets get most hits, the tail still gets some."""
    return [1.0 / (rank + 1) ** 0.8 for rank in range(count)]


def pixel_requests(assets: list[str], host: str, count: int = 4096, seed: int = 7) -> list[bytes]:
    """Distinct pixel GETs to replay: 80% name a viewer, the rest get ingest's salted hash."""
    rng = random.Random(seed)
    weights = _popularity(len(assets))
    requests = []
    for _ in range(count):
        query = {"asset": rng.choices(assets, weights)[0]}
        if rng.random() < 0.8:
            query["viewer"] = f"viewer-{rng.randrange(20_000)}"
        user_agent = rng.choices(USER_AGENTS, _DEVICE_WEIGHTS)[0][0]
        headers = {"User-Agent": user_agent, "Accept": "image/avif,image/webp,*/*"}
        if referrer := rng.choice(_REFERRERS):
            headers["Referer"] = f"https://{referrer}/"
        requests.append(get_request(f"/px.gif?{urlencode(query)}", host, headers))
    return requests


@dataclass(frozen=True)
class BenchEvents:
    """The same events in the three shapes the aggregator bench feeds its comparisons."""

    envelopes: list[EventEnvelope]
    messages: list[tuple[bytes, bytes]]  # (key = asset_id, value = envelope JSON)

    def rows(self) -> list[tuple[object, ...]]:
        """Rows with the ``events`` table's columns, for the COPY baseline."""
        return [
            (e.event_id, e.type, e.asset_id, e.viewer_id, e.occurred_at, e.received_at,
             e.device.device_class.value, e.device.os, e.device.browser, e.page,
             e.referrer_host, e.source.value, e.view_id, e.engaged_ms, e.wall_ms, None)
            for e in self.envelopes
        ]


def generate_events(count: int, assets: list[str], seed: int = 42) -> BenchEvents:
    """~70% views, ~8% downloads, ~22% dwell; 20k viewers; event times over three days."""
    rng = random.Random(seed)
    weights = _popularity(len(assets))
    now = datetime.now(timezone.utc)
    recent_views: list[EventEnvelope] = []
    envelopes: list[EventEnvelope] = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.22 and recent_views:
            view = rng.choice(recent_views)
            engaged = rng.randrange(0, 60_000)
            envelope = EventEnvelope(
                type="dwell", asset_id=view.asset_id, viewer_id=view.viewer_id,
                occurred_at=view.occurred_at + timedelta(seconds=rng.randrange(5, 300)),
                received_at=now, device=view.device, source=Source.BEACON,
                view_id=view.event_id, engaged_ms=engaged,
                wall_ms=engaged + rng.randrange(0, 30_000), page=view.page,
            )
        else:
            is_download = roll > 0.92
            occurred = now - timedelta(seconds=rng.uniform(60, 3 * 86_400))
            viewer = (None if rng.random() < 0.05
                      else f"viewer-{rng.randrange(20_000)}" if rng.random() < 0.7
                      else f"anon:{rng.getrandbits(96):024x}")
            envelope = EventEnvelope(
                type="download" if is_download else "view",
                asset_id=rng.choices(assets, weights)[0], viewer_id=viewer,
                occurred_at=occurred, received_at=occurred + timedelta(milliseconds=40),
                device=rng.choices(USER_AGENTS, _DEVICE_WEIGHTS)[0][1],
                page=rng.choice((None, None, 1, 2, rng.randrange(1, 40))),
                referrer_host=rng.choice(_REFERRERS),
                source=Source.LINK if is_download else rng.choice((Source.PIXEL, Source.BEACON)),
            )
            if not is_download:
                recent_views.append(envelope)
                if len(recent_views) > 2_000:
                    recent_views.pop(rng.randrange(len(recent_views)))
        envelopes.append(envelope)
    messages = [(e.asset_id.encode(), e.model_dump_json().encode()) for e in envelopes]
    return BenchEvents(envelopes, messages)
