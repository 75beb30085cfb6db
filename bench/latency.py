"""End-to-end latency: pixel hit answered -> its ``asset-scores`` message consumed.

Attribution is exact by construction: every timed hit goes to its own asset, never hit
before, so the first ``asset-scores`` message for that asset with ``totals.views >= 1`` is
the one that hit caused. Hits are sent open-loop at a fixed rate (a slow answer does not
slow the sender), each on a free keep-alive connection from a pool.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.settings import Settings

from .cpu import CpuMeter, CpuUsage, Probe
from .http_load import HttpConnection, connect, get_request
from .infra import settings_env
from .kafka_io import ArrivalWatcher
from .procs import Children
from .stats import Latencies
from .workload import USER_AGENTS

__all__ = ["PipelineLatency", "latency_assets", "pipeline_latency"]

_POOL_SIZE = 32
_WARM_HITS = 20


@dataclass(frozen=True)
class PipelineLatency:
    end_to_end: Latencies  # 200 received -> asset-scores message consumed
    http: Latencies  # request written -> 200 received
    sent_rate: float  # hits/s actually sent
    errors: int
    cpu: CpuUsage


def latency_assets(rate: float, seconds: float) -> tuple[list[str], list[str]]:
    """(warm-up assets, one fresh asset per timed hit)."""
    return ([f"warm-{i:03d}" for i in range(_WARM_HITS)],
            [f"lat-{i:06d}" for i in range(int(rate * seconds))])


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


async def pipeline_latency(
    settings: Settings,
    children: Children,
    *,
    rate: float,
    seconds: float,
    workdir: Path,
    probes: dict[str, Probe],
) -> PipelineLatency:
    """Run ingest and the aggregator, warm the path, then send one hit per fresh asset at
    ``rate`` and time each from its 200 to its first ``asset-scores`` message."""
    warm, timed = latency_assets(rate, seconds)
    first_seen: dict[str, float] = {}

    def on_score(record: Any, arrived: float) -> None:
        update = json.loads(record.value)
        asset = update["asset_id"]
        if update["totals"]["views"] >= 1 and asset not in first_seen:
            first_seen[asset] = arrived

    ready = workdir / "latency-aggregator.ready"
    aggregator = children.start(
        "latency-aggregator", "aggregator", {**settings_env(settings), "BENCH_READY_FILE": str(ready)}
    )
    ingest = children.start("latency-ingest", "ingest", settings_env(settings))
    watcher = ArrivalWatcher(settings.kafka_bootstrap_servers, settings.topics.asset_scores, on_score)
    pool = _Pool(settings.ingest_port)
    try:
        await aggregator.wait_for_file(ready)
        await ingest.wait_for_port(settings.ingest_port)
        await watcher.start()
        await pool.fill(_POOL_SIZE)
        host = f"127.0.0.1:{settings.ingest_port}"
        user_agent = USER_AGENTS[0][0]

        def request(asset: str) -> bytes:
            return get_request(f"/px.gif?asset={asset}&viewer=v-{asset}", host,
                               {"User-Agent": user_agent})

        # Warm-up: the aggregator must have joined its group and the path be hot.
        for asset in warm:
            await pool.hit(request(asset))
            await asyncio.sleep(0.05)
        await _wait_until(lambda: all(a in first_seen for a in warm), 60.0)

        answered: dict[str, tuple[float, float]] = {}

        async def one(asset: str, raw: bytes) -> None:
            times = await pool.hit(raw)
            if times is not None:
                answered[asset] = times

        raws = [request(a) for a in timed]
        tasks = []
        meter = CpuMeter({"ingest": ingest.cpu_seconds, "aggregator": aggregator.cpu_seconds,
                          **probes})
        started = time.perf_counter()
        meter.start(started)
        for i, (asset, raw) in enumerate(zip(timed, raws)):
            await asyncio.sleep(max(0.0, started + i / rate - time.perf_counter()))
            tasks.append(asyncio.create_task(one(asset, raw)))
        sent_for = time.perf_counter() - started
        await asyncio.gather(*tasks)
        cpu = meter.stop(time.perf_counter())
        await _wait_until(lambda: all(a in first_seen for a in answered), 20.0)
    finally:
        pool.close()
        await watcher.stop()
        children.stop(ingest)
        children.stop(aggregator)
    return PipelineLatency(
        end_to_end=Latencies(
            [first_seen[a] - done for a, (_, done) in answered.items() if a in first_seen],
            len(timed),
        ),
        http=Latencies([done - sent for sent, done in answered.values()], len(timed)),
        sent_rate=(len(timed) - 1) / sent_for if sent_for else 0.0,
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
