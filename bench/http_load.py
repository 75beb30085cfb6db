"""A lean HTTP/1.1 load generator on raw asyncio protocols.

On the 2-core reference machine httpx.AsyncClient managed ~360 requests/s against the hello
app, at ~2.8 ms of client CPU each: it would measure itself, not the server. Here a request
is one pre-built ``bytes`` written to a keep-alive socket and a response is complete when
its ``Content-Length`` bytes arrived, ~35 us of client CPU each, on par with wrk on the same
box; the client's CPU share is printed beside every result to show it never set the pace.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from .cpu import CpuMeter, CpuUsage

__all__ = ["HttpConnection", "LoadResult", "closed_loop", "connect", "get_request"]

_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)


def get_request(path: str, host: str, headers: dict[str, str] | None = None) -> bytes:
    """The bytes of one GET, built once and replayed."""
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class HttpConnection(asyncio.Protocol):
    """One keep-alive connection with at most one request in flight."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[int] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        head_end = self._buffer.find(b"\r\n\r\n")
        if head_end < 0:
            return
        match = _CONTENT_LENGTH.search(self._buffer, 0, head_end + 2)
        if match is None:
            self._fail(ConnectionError("response without Content-Length"))
            return
        total = head_end + 4 + int(match.group(1))
        if len(self._buffer) < total:
            return
        status = int(self._buffer[9:12])
        del self._buffer[:total]
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(status)

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(exc or ConnectionError("server closed the connection"))

    def _fail(self, exc: Exception) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(exc)

    async def request(self, raw: bytes) -> int:
        """Send one request; returns the response status."""
        assert self._transport is not None
        self._waiter = asyncio.get_running_loop().create_future()
        self._transport.write(raw)
        return await self._waiter

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


async def connect(port: int, host: str = "127.0.0.1") -> HttpConnection:
    _, protocol = await asyncio.get_running_loop().create_connection(HttpConnection, host, port)
    return protocol


@dataclass
class LoadResult:
    """What one closed-loop run measured inside its window (warm-up excluded)."""

    completed: int
    errors: int
    seconds: float
    latencies: list[float]
    #: Every 200 of the run, warm-up and the tail after the window included.
    ok_total: int = 0
    cpu: CpuUsage = field(default_factory=CpuUsage)

    @property
    def rate(self) -> float:
        return self.completed / self.seconds if self.seconds else 0.0


async def closed_loop(
    port: int,
    requests: Sequence[bytes],
    *,
    connections: int,
    seconds: float,
    warmup: float,
    meter: CpuMeter | None = None,
    by_send_time: bool = False,
) -> LoadResult:
    """Each connection sends its next request as soon as the last answered; only answers
    that arrive inside [warm-up end, end] count, each 200 as one completed request.
    ``by_send_time``: count the requests *sent* inside the window instead, however late
    their answers come, so that a server that stalls shows its stall, not an empty window."""
    conns = [await connect(port) for _ in range(connections)]
    loop_start = time.perf_counter()
    window_start = loop_start + warmup
    window_end = window_start + seconds
    latencies: list[float] = []
    errors = ok_total = 0

    async def worker(index: int, conn: HttpConnection) -> None:
        nonlocal errors, ok_total
        i = index
        while (sent := time.perf_counter()) < window_end:
            try:
                status = await conn.request(requests[i % len(requests)])
            except ConnectionError:
                errors += 1
                return
            done = time.perf_counter()
            i += connections
            if status != 200:
                errors += 1
                continue
            ok_total += 1
            at = sent if by_send_time else done
            if window_start <= at <= window_end:
                latencies.append(done - sent)

    async def sample_cpu() -> CpuUsage:
        if meter is None:
            return CpuUsage()
        await asyncio.sleep(window_start - time.perf_counter())
        meter.start(time.perf_counter())
        await asyncio.sleep(window_end - time.perf_counter())
        return meter.stop(time.perf_counter())

    try:
        sampler = asyncio.create_task(sample_cpu())
        await asyncio.gather(*(worker(i, c) for i, c in enumerate(conns)))
        cpu = await sampler
    finally:
        for conn in conns:
            conn.close()
    return LoadResult(len(latencies), errors, seconds, latencies, ok_total, cpu)
