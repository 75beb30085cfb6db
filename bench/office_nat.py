"""An office behind one NAT against ingest's default rate limits.

500 people share one public address, so ingest sees one client. Their peak minute, by
the arithmetic in services/ingest/settings.py, is 3,334 pixel and download hits (a third
of an hour's 100,000 email-image fetches in the first ten minutes of the day) and 12,500
page-script events (5 tracked pages open each: a dwell slice every 15 s, plus a view per
page load), over the 50 assets the office reads. And everyone opening the same email and
its page in the same minute puts 1,000 hits on one asset. This sends each of those minutes
in a few seconds from one address (one per check, as X-Forwarded-For from the local
proxy, which uvicorn trusts). A per-minute
limit sees at least as many hits in any window as it would if they were spread over the
minute, so a peak with no 429 here has none spread out either. Then it keeps sending until
the first 429, to show how much room is left above the peak.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from urllib.parse import urlencode

from devtools.settings import StackSettings
from services.ingest.settings import IngestSettings

from .http_load import HttpConnection, connect, get_request
from .infra import UNLIMITED, settings_env
from .procs import Children
from .workload import USER_AGENTS

__all__ = ["OFFICE_ASSETS", "OFFICE_PEOPLE", "OfficeFigures", "OfficeSend", "office_peak"]

OFFICE_PEOPLE = 500
PEAK_PIXEL_HITS = 3_334
PEAK_BEACON_EVENTS = 12_500
#: Everyone opens one email (its pixel) and its page (a view) within the minute.
ONE_ASSET_HITS = 2 * OFFICE_PEOPLE
OFFICE_ASSETS = 50
#: Events per page-script request: a view and its first dwell slices, as t.js batches them.
_EVENTS_PER_BEACON = 5
_CONNECTIONS = 16
#: Past the peak, sends stop at the first 429 or after this many times the peak.
_HEADROOM_CAP = 10


@dataclass(frozen=True)
class OfficeSend:
    """One path's peak minute and what lay above it."""

    limit: str
    peak: int  # hits (or events) in the peak minute
    refused_in_peak: int  # 429s among them
    first_refused_after: int | None  # hits sent, peak included, before the first 429
    seconds: float  # how long the peak minute took to send


@dataclass(frozen=True)
class OfficeFigures:
    people: int
    pixel: OfficeSend
    beacon: OfficeSend
    one_asset: OfficeSend


def _default(name: str) -> str:
    return str(IngestSettings.model_fields[name].default)


def _pixel(host: str, nat: str, asset: str, n: int) -> bytes:
    user_agent = USER_AGENTS[n % len(USER_AGENTS)][0]
    query = urlencode({"asset": asset, "viewer": f"office-{n % OFFICE_PEOPLE}"})
    return get_request(f"/px.gif?{query}", host,
                       {"User-Agent": user_agent, "X-Forwarded-For": nat})


def _beacon(host: str, nat: str, asset: str, n: int) -> bytes:
    events = [{"type": "view" if i == 0 else "dwell", "asset_id": asset, "source": "beacon",
               **({"view_id": f"00000000-0000-4000-8000-{n:012d}", "engaged_ms": 15_000,
                   "wall_ms": 15_000} if i else {"event_id": f"00000000-0000-4000-8000-{n:012d}"})}
              for i in range(_EVENTS_PER_BEACON)]
    body = json.dumps({"events": events}).encode()
    head = (f"POST /v1/events HTTP/1.1\r\nHost: {host}\r\nContent-Type: text/plain\r\n"
            f"User-Agent: {USER_AGENTS[n % len(USER_AGENTS)][0]}\r\nX-Forwarded-For: {nat}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode("latin-1") + body


async def _send(port: int, requests: list[bytes], stop_at_429: bool) -> list[int]:
    """Send ``requests`` over a few keep-alive connections, in order per connection; the
    statuses in sending order (-1: not sent, because a 429 came first)."""
    statuses = [-1] * len(requests)
    refused = asyncio.Event()
    next_index = iter(range(len(requests)))

    async def worker() -> None:
        conn: HttpConnection = await connect(port)
        try:
            for i in next_index:
                if stop_at_429 and refused.is_set():
                    return
                statuses[i] = await conn.request(requests[i])
                if statuses[i] == 429:
                    refused.set()
        finally:
            conn.close()

    await asyncio.gather(*(worker() for _ in range(_CONNECTIONS)))
    return statuses


async def _path(port: int, limit: str, peak_requests: list[bytes], more: list[bytes],
                per_request: int) -> OfficeSend:
    loop = asyncio.get_running_loop()
    started = loop.time()
    peak = await _send(port, peak_requests, stop_at_429=False)
    seconds = loop.time() - started
    above = await _send(port, more, stop_at_429=True)
    sent = [s for s in peak + above if s != -1]
    first = next((i for i, s in enumerate(sent) if s == 429), None)
    return OfficeSend(limit, len(peak) * per_request, peak.count(429) * per_request,
                      None if first is None else first * per_request, seconds)


async def office_peak(settings: StackSettings, children: Children,
                      assets: list[str]) -> OfficeFigures:
    """Ingest with its default limits, the office's peak minutes, one address each."""
    env = settings_env(settings)
    for name in UNLIMITED:  # the bench's other phases lift the limits; this one must not
        env.pop(name, None)
    child = children.start("office", "ingest", env)
    try:
        await child.wait_for_port(settings.ingest_port)
        host = f"127.0.0.1:{settings.ingest_port}"
        port = settings.ingest_port

        def pixels(nat: str, start: int, stop: int, spread: bool = True) -> list[bytes]:
            return [_pixel(host, nat, assets[n % len(assets)] if spread else assets[0], n)
                    for n in range(start, stop)]

        cap = _HEADROOM_CAP * PEAK_PIXEL_HITS
        pixel = await _path(port, _default("rate_limit_pixel"),
                            pixels("203.0.113.1", 0, PEAK_PIXEL_HITS),
                            pixels("203.0.113.1", PEAK_PIXEL_HITS, cap), 1)
        beacons = PEAK_BEACON_EVENTS // _EVENTS_PER_BEACON
        beacon = await _path(
            port, _default("rate_limit_beacon"),
            [_beacon(host, "203.0.113.2", assets[n % len(assets)], n) for n in range(beacons)],
            [_beacon(host, "203.0.113.2", assets[n % len(assets)], n)
             for n in range(beacons, _HEADROOM_CAP * beacons)],
            _EVENTS_PER_BEACON)
        one = await _path(port, _default("rate_limit_asset"),
                          pixels("203.0.113.3", 0, ONE_ASSET_HITS, spread=False),
                          pixels("203.0.113.3", ONE_ASSET_HITS, _HEADROOM_CAP * ONE_ASSET_HITS,
                                 spread=False), 1)
        child.check_alive()
        return OfficeFigures(OFFICE_PEOPLE, pixel, beacon, one)
    finally:
        children.stop(child)
