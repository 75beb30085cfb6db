"""Pixel throughput: the real ingest app versus a hello app, same server, same client.

Both run as ``uvicorn.run`` in a child process (one worker, access log off) and receive
the very same request bytes from the same number of connections. Ingest answers the GIF
even when publishing fails, so the run is only trusted if the ``events`` topic holds one
record per answered hit.
"""

from __future__ import annotations

from dataclasses import dataclass

from devtools.settings import StackSettings

from .cpu import CpuMeter, Probe
from .http_load import LoadResult, closed_loop
from .infra import settings_env
from .kafka_io import count_events
from .procs import Children
from .workload import pixel_requests

__all__ = ["HttpRun", "run_http"]


@dataclass(frozen=True)
class HttpRun:
    ingest: LoadResult
    hello: LoadResult
    connections: int
    published: int  # records on ingest's events topic afterwards
    distinct: int  # distinct event ids among them
    answered: int  # 200s ingest sent, warm-up included: must equal both


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
) -> tuple[LoadResult, int]:
    """Run one app under load; returns the measured result and every 200 it sent."""
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
        child.check_alive()
        return result, primer.ok_total + result.ok_total
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
    ingest, answered = await _serve_and_load(
        "ingest", ingest_settings, children, assets=assets, connections=connections,
        seconds=seconds, warmup=warmup, probes=probes,
    )
    published, distinct = await count_events(ingest_settings.kafka_bootstrap_servers,
                                             ingest_settings.topics.events)
    return HttpRun(ingest=ingest, hello=hello, connections=connections,
                   published=published, distinct=distinct, answered=answered)
