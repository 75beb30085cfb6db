"""The User-Agent flood: ``POST /v1/events`` batches of 1,000 events, each event with a
User-Agent ingest has never seen, sent back to back while the pixel load runs.

Each User-Agent is a real browser's with a unique build number, so it misses every cache
and fast path and costs ingest one full Device Detector parse (~5-10 ms): 1,000 of them
once held ingest's event loop for seconds. The pixel p99 under the flood, beside the
idle p99, shows whether they still do.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field

from .http_load import HttpConnection, connect

__all__ = ["BATCH_SIZE", "FloodResult", "flood"]

BATCH_SIZE = 1_000
_counter = itertools.count()


@dataclass
class FloodResult:
    batches: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    seconds: list[float] = field(default_factory=list)  # per batch


def _batch(asset: str) -> bytes:
    events = []
    for _ in range(BATCH_SIZE):
        n = next(_counter)
        user_agent = (f"Mozilla/5.0 (Linux; Android 14; SM-S91{n % 10}B Build/UP1A.{n:06d}) "
                      "AppleWebKit/537.36 (KHTML, like Gecko) "
                      f"Chrome/{100 + n % 40}.0.{n}.{n % 97} Mobile Safari/537.36")
        events.append({"type": "view", "asset_id": asset, "viewer_id": f"flood-{n}",
                       "user_agent": user_agent})
    return json.dumps({"events": events}).encode()


def _post(host: str, body: bytes, token: str) -> bytes:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    head = (f"POST /v1/events HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"{auth}Content-Length: {len(body)}\r\n\r\n")
    return head.encode("latin-1") + body


async def flood(port: int, asset: str, until: float, token: str = "") -> FloodResult:
    """Send batches one after another until ``until`` (perf_counter), each awaited, with
    the ingest key ``token`` (batches that set ``user_agent`` need one)."""
    result = FloodResult()
    conn: HttpConnection = await connect(port)
    host = f"127.0.0.1:{port}"
    try:
        while time.perf_counter() < until:
            raw = _post(host, _batch(asset), token)
            started = time.perf_counter()
            status = await conn.request(raw)
            result.seconds.append(time.perf_counter() - started)
            result.batches += 1
            result.statuses[status] = result.statuses.get(status, 0) + 1
            await asyncio.sleep(0)
    finally:
        conn.close()
    return result
