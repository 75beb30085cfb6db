"""Run one service in the foreground until SIGINT/SIGTERM, then stop it cleanly."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Protocol

import uvicorn
from fastapi import FastAPI

__all__ = ["configure_logging", "run_http", "run_service"]


class Service(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )


def run_http(app: FastAPI, host: str, port: int) -> None:
    # access_log stays off: uvicorn's access lines carry the client IP, which never
    # reaches our logs.
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="info",
                timeout_graceful_shutdown=8)


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
