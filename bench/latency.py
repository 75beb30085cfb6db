"""End-to-end latency at a steady rate: a pixel hit's 200 -> its asset's new state
(a) consumed from ``asset-scores`` and (b) received by a Server-Sent Events client of the
ratings app, the way a live scoreboard receives it.

Attribution: hits go round-robin over a fixed catalog (``LATENCY_ASSETS`` assets of one
type, so every batch rescores them all, as a real catalog would be), each with a fresh
viewer so no rule filters it. The k-th answered hit on an asset is delivered when a state
of that asset with ``views >= k`` arrives. Hits on one asset are catalog-size / rate apart
(0.4 s at 500/s), far more than the jitter, so their order is never in doubt.
Hits are sent open-loop at a fixed rate, each on a free keep-alive connection of a pool.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from devtools.settings import StackSettings
from services.ratings.identity.models import Role
from services.ratings.identity.store import add_user, create_token

from .cpu import CpuMeter, CpuUsage, Probe
from .http_load import HttpConnection, connect, get_request
from .infra import settings_env
from .kafka_io import ArrivalWatcher
from .procs import Children
from .stats import Latencies
from .workload import USER_AGENTS, asset_ids

__all__ = ["LATENCY_ASSETS", "PipelineLatency", "latency_assets", "pipeline_latency"]

LATENCY_ASSETS = 200
_POOL_SIZE = 32
_WARM_SECONDS = 2.0


@dataclass(frozen=True)
class PipelineLatency:
    to_topic: Latencies  # 200 received -> asset-scores message consumed
    to_sse: Latencies  # 200 received -> SSE event received
    http: Latencies  # request written -> 200 received
    sent_rate: float  # hits/s actually sent
    errors: int
    cpu: CpuUsage


def latency_assets() -> list[str]:
    return asset_ids(LATENCY_ASSETS, prefix="lat")


class _Pool:
    """Keep-alive connections handed to one hit at a time."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.idle: asyncio.Queue[HttpConnection] = asyncio.Queue()
        self.errors = 0

    async def fill(self, size: int) -> None:
        for _ in range(size):
            self.idle.put_nowait(await connect(self.port))

    async def hit(self, raw: bytes) -> tuple[float, float] | None:
        """(sent, answered) perf_counter times, or None if the hit failed."""
        conn = await self.idle.get()
        sent = time.perf_counter()
        try:
            status = await conn.request(raw)
        except ConnectionError:
            self.errors += 1
            conn.close()
            self.idle.put_nowait(await connect(self.port))
            return None
        answered = time.perf_counter()
        self.idle.put_nowait(conn)
        if status != 200:
            self.errors += 1
            return None
        return sent, answered

    def close(self) -> None:
        while not self.idle.empty():
            self.idle.get_nowait().close()


class _Arrivals:
    """When each asset's view count first reached each value, per path."""

    def __init__(self) -> None:
        self.first_at: dict[str, dict[int, float]] = defaultdict(dict)

    def saw(self, state: dict[str, Any], arrived: float) -> None:
        reached = self.first_at[state["asset_id"]]
        views = state["totals"]["views"]
        if views not in reached:
            reached[views] = arrived

    def delivered(self, asset: str, ordinal: int) -> float | None:
        """When a state with at least ``ordinal`` views first arrived."""
        times = [at for views, at in self.first_at.get(asset, {}).items() if views >= ordinal]
        return min(times) if times else None


async def _sse_reader(url: str, token: str, arrivals: _Arrivals, connected: asyncio.Event) -> None:
    headers = {"authorization": f"Bearer {token}", "accept": "text/event-stream"}
    async with httpx.AsyncClient(timeout=httpx.Timeout(10, read=None)) as client:
        async with client.stream("GET", url, headers=headers) as response:
            response.raise_for_status()
            connected.set()
            async for line in response.aiter_lines():
                if line.startswith("data:"):
                    arrivals.saw(json.loads(line[5:]), time.perf_counter())


async def _api_token(settings: StackSettings) -> str:
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=1)
    try:
        user = await add_user(pool, "bench-board@example.com", Role.EXECUTIVE, "Bench board")
        return await create_token(pool, user, "bench")
    finally:
        await pool.close()


async def pipeline_latency(
    settings: StackSettings,
    children: Children,
    *,
    rate: float,
    seconds: float,
    workdir: Path,
    probes: dict[str, Probe],
) -> PipelineLatency:
    """Run ingest, the aggregator and the ratings app, warm the path, then send ``rate``
    hits/s for ``seconds`` and time each hit to both arrivals."""
    assets = latency_assets()
    env = settings_env(settings)
    ready = workdir / "latency-aggregator.ready"
    aggregator = children.start("latency-aggregator", "aggregator",
                                {**env, "BENCH_READY_FILE": str(ready)})
    ingest = children.start("latency-ingest", "ingest", env)
    ratings = children.start("latency-ratings", "ratings", env)
    on_topic, on_sse = _Arrivals(), _Arrivals()
    watcher = ArrivalWatcher(settings.kafka_bootstrap_servers, settings.topics.asset_scores,
                             lambda record, at: on_topic.saw(json.loads(record.value), at))
    pool = _Pool(settings.ingest_port)
    connected = asyncio.Event()
    reader: asyncio.Task[None] | None = None
    try:
        token = await _api_token(settings)
        await aggregator.wait_for_file(ready)
        await ingest.wait_for_port(settings.ingest_port)
        await ratings.wait_for_port(settings.ratings_port)
        await watcher.start()
        reader = asyncio.create_task(_sse_reader(
            f"http://127.0.0.1:{settings.ratings_port}/v1/scores/stream?since=0", token,
            on_sse, connected))
        await asyncio.wait_for(connected.wait(), 30)
        await pool.fill(_POOL_SIZE)
        host = f"127.0.0.1:{settings.ingest_port}"
        user_agent = USER_AGENTS[1][0]
        serial = 0

        def request(asset: str) -> bytes:
            nonlocal serial
            serial += 1
            return get_request(f"/px.gif?asset={asset}&viewer=v{serial}", host,
                               {"User-Agent": user_agent})

        # Warm-up: one hit per asset, until every one has come back through both paths.
        for asset in assets:
            await pool.hit(request(asset))
            await asyncio.sleep(_WARM_SECONDS / len(assets))
        await _wait_until(lambda: all(on_sse.delivered(a, 1) and on_topic.delivered(a, 1)
                                      for a in assets), 60.0)

        answered: list[tuple[str, int, float, float]] = []
        ordinals = dict.fromkeys(assets, 1)

        async def one(asset: str, raw: bytes) -> None:
            times = await pool.hit(raw)
            if times is not None:
                ordinals[asset] += 1
                answered.append((asset, ordinals[asset], *times))

        total = int(rate * seconds)
        schedule = [(assets[i % len(assets)], request(assets[i % len(assets)]))
                    for i in range(total)]
        tasks = []
        meter = CpuMeter({"ingest": ingest.cpu_seconds, "aggregator": aggregator.cpu_seconds,
                          "ratings": ratings.cpu_seconds, **probes})
        started = time.perf_counter()
        meter.start(started)
        for i, (asset, raw) in enumerate(schedule):
            await asyncio.sleep(max(0.0, started + i / rate - time.perf_counter()))
            tasks.append(asyncio.create_task(one(asset, raw)))
        sent_for = time.perf_counter() - started
        await asyncio.gather(*tasks)
        cpu = meter.stop(time.perf_counter())
        await _wait_until(lambda: all(on_sse.delivered(a, n) and on_topic.delivered(a, n)
                                      for a, n, _, _ in answered), 20.0)
    finally:
        if reader is not None:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
        pool.close()
        await watcher.stop()
        for child in (ingest, aggregator, ratings):
            children.stop(child)

    def latencies(arrivals: _Arrivals) -> Latencies:
        values = []
        for asset, ordinal, _, done in answered:
            at = arrivals.delivered(asset, ordinal)
            if at is not None:
                values.append(at - done)
        return Latencies(values, total)

    return PipelineLatency(
        to_topic=latencies(on_topic),
        to_sse=latencies(on_sse),
        http=Latencies([done - sent for _, _, sent, done in answered], total),
        sent_rate=(total - 1) / sent_for if sent_for else 0.0,
        errors=pool.errors,
        cpu=cpu,
    )


async def _wait_until(condition: Any, timeout: float) -> bool:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True
