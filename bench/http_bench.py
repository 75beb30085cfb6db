"""Pixel throughput: the real ingest app versus a hello app, same server, same client.

Both run as ``uvicorn.run`` in a child process (one worker, access log off) and receive
the very same request bytes from the same number of connections. Ingest answers the GIF
even when publishing fails, so the run is only trusted if the ``events`` topic holds one
record per answered hit.

Ingest then runs once more under the User-Agent flood (:mod:`.ua_flood`): the same pixel
load while batches of 1,000 events with never-seen User-Agents arrive back to back.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import asyncpg

from devtools.settings import StackSettings

from .cpu import CpuMeter, Probe
from .http_load import LoadResult, closed_loop
from .infra import settings_env
from .kafka_io import count_events
from .procs import Children
from .ua_flood import BATCH_SIZE, FloodResult, flood
from .workload import pixel_requests

__all__ = ["HttpRun", "run_http"]


async def _ingest_key(settings: StackSettings) -> str:
    """An ingest key for the flood's batches (they set user_agent), made before ingest starts
    so that ingest loads it."""
    from services.ratings.identity.store import create_ingest_key

    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=1)
    try:
        _, token = await create_ingest_key(pool, "bench-ua-flood", ["events:write"], None)
        return token
    finally:
        await pool.close()


@dataclass(frozen=True)
class HttpRun:
    ingest: LoadResult
    hello: LoadResult
    connections: int
    published: int  # records on ingest's events topic afterwards
    distinct: int  # distinct event ids among them
    answered: int  # 200s ingest sent, warm-up included, and flood events accepted
    #: The pixel load again, under back-to-back batches of 1,000 never-seen User-Agents.
    flooded: LoadResult | None = None
    flood: FloodResult | None = None


async def _flood_after(delay: float, port: int, asset: str, until: float,
                       token: str) -> FloodResult:
    await asyncio.sleep(delay)
    return await flood(port, asset, until, token)


async def _serve_and_load(
    kind: str,
    settings: StackSettings,
    children: Children,
    *,
    assets: list[str],
    connections: int,
    seconds: float,
    warmup: float,
    probes: dict[str, Probe],
    flood_results: list[tuple[LoadResult, FloodResult]] | None = None,
) -> tuple[LoadResult, int]:
    """Run one app under load; returns the measured result and every 200 it sent."""
    token = await _ingest_key(settings) if kind == "ingest" and flood_results is not None else ""
    child = children.start(kind, kind, settings_env(settings))
    try:
        await child.wait_for_port(settings.ingest_port)
        requests = pixel_requests(assets, f"127.0.0.1:{settings.ingest_port}")
        meter = CpuMeter({"server": child.cpu_seconds, **probes})
        # A short uncounted run first, so lazy imports, caches and the producer are warm.
        primer = await closed_loop(settings.ingest_port, requests, connections=connections,
                                   seconds=warmup, warmup=0.0)
        result = await closed_loop(settings.ingest_port, requests, connections=connections,
                                   seconds=seconds, warmup=warmup, meter=meter)
        answered = primer.ok_total + result.ok_total
        if kind == "ingest" and flood_results is not None:
            # No warm-up (the server is warm): the flood starts once the pixel load runs, so
            # the pixel requests in flight when a batch arrives are inside the window.
            until = time.perf_counter() + seconds
            flooding = asyncio.create_task(_flood_after(
                warmup / 2, settings.ingest_port, assets[0], until, token))
            flooded = await closed_loop(settings.ingest_port, requests,
                                        connections=connections, seconds=seconds,
                                        warmup=0.0, by_send_time=True,
                                        meter=CpuMeter({"server": child.cpu_seconds, **probes}))
            batches = await flooding
            flood_results.append((flooded, batches))
            answered += flooded.ok_total + BATCH_SIZE * batches.statuses.get(202, 0)
        child.check_alive()
        return result, answered
    finally:
        children.stop(child)


async def run_http(
    hello_settings: StackSettings,
    ingest_settings: StackSettings,
    children: Children,
    *,
    assets: list[str],
    connections: int,
    seconds: float,
    warmup: float,
    probes: dict[str, Probe],
) -> HttpRun:
    hello, _ = await _serve_and_load(
        "hello", hello_settings, children, assets=assets, connections=connections,
        seconds=seconds, warmup=warmup, probes=probes,
    )
    flooded: list[tuple[LoadResult, FloodResult]] = []
    ingest, answered = await _serve_and_load(
        "ingest", ingest_settings, children, assets=assets, connections=connections,
        seconds=seconds, warmup=warmup, probes=probes, flood_results=flooded,
    )
    published, distinct = await count_events(ingest_settings.kafka_bootstrap_servers,
                                             ingest_settings.topics.events)
    return HttpRun(ingest=ingest, hello=hello, connections=connections,
                   published=published, distinct=distinct, answered=answered,
                   flooded=flooded[0][0], flood=flooded[0][1])
