"""Run one service in the foreground until SIGINT/SIGTERM, then stop it cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator
from typing import Protocol

import uvicorn
from fastapi import FastAPI

__all__ = ["run_http", "run_service"]


class Service(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


def run_http(app: FastAPI, host: str, port: int) -> None:
    # access_log stays off: uvicorn's access lines carry the client IP, which never
    # reaches our logs. log_config=None keeps our JSON handler on uvicorn's loggers.
    # On SIGTERM uvicorn stops accepting, lets requests in flight finish for up to 8 s,
    # then runs the lifespan shutdown (which flushes the producer): exit within 10 s.
    config = uvicorn.Config(app, host=host, port=port, access_log=False, log_level="info",
                            log_config=None, timeout_graceful_shutdown=8)
    _ExitZeroServer(config).run()


class _ExitZeroServer(uvicorn.Server):
    """uvicorn re-raises SIGTERM after its graceful shutdown, so the process ends "killed
    by SIGTERM" (143) even when it drained cleanly. A clean drain exits 0 here; a second
    signal still forces the exit, as in uvicorn."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        previous = {sig: signal.signal(sig, self.handle_exit)
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def run_service(service: Service) -> None:
    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await service.start()
        try:
            await stop.wait()
        finally:
            await asyncio.wait_for(service.stop(), timeout=9)

    asyncio.run(main())
