"""Child-process entry point: ``python -m bench.serve {ingest,hello,ratings,aggregator}``.

Settings come from the environment (``bench.infra.settings_env``). Both HTTP apps are
served by the same ``uvicorn.run`` call, so the hello app is a fair bare limit for ingest.
With ``BENCH_PROFILE=FILE`` the aggregator runs under cProfile and dumps its stats there.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import signal
import sys
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from fastapi.responses import Response

from devtools.settings import StackSettings

__all__ = ["hello_app", "main"]

#: Same 43-byte GIF and cache headers as ingest's pixel, so only the work behind differs.
_GIF = base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")
_NO_STORE = {"Cache-Control": "no-store, max-age=0", "Pragma": "no-cache"}


def hello_app() -> FastAPI:
    """The bare limit: same framework and server, a route that does nothing."""
    app = FastAPI()

    @app.get("/px.gif")
    async def pixel() -> Response:
        return Response(_GIF, media_type="image/gif", headers=_NO_STORE)

    return app


def _serve_http(app: FastAPI, port: int) -> None:
    uvicorn.run(app, host="127.0.0.1", port=port, access_log=False,
                log_level="warning", lifespan="on")


def _run_aggregator(settings: StackSettings, ready_file: Path | None) -> None:
    from services.aggregator.main import AggregatorService

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        service = AggregatorService(settings)
        await service.start()
        if ready_file is not None:
            ready_file.touch()
        try:
            await stop.wait()
        finally:
            await asyncio.wait_for(service.stop(), 15)

    profile_to = os.environ.get("BENCH_PROFILE")
    if not profile_to:
        asyncio.run(run())
        return
    import cProfile

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        asyncio.run(run())
    finally:
        profiler.disable()
        profiler.dump_stats(profile_to)


def main(argv: list[str]) -> int:
    kind = argv[0] if argv else ""
    settings = StackSettings()
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if kind == "hello":
        _serve_http(hello_app(), settings.ingest_port)
    elif kind == "ingest":
        from services.ingest.main import create_app

        _serve_http(create_app(settings), settings.ingest_port)
    elif kind == "ratings":
        from services.ratings.main import create_app as create_ratings_app

        _serve_http(create_ratings_app(settings), settings.ratings_port)
    elif kind == "aggregator":
        ready = os.environ.get("BENCH_READY_FILE")
        _run_aggregator(settings, Path(ready) if ready else None)
    else:
        print("usage: python -m bench.serve {ingest,hello,ratings,aggregator}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
