"""What every service exposes to operations: JSON logs, /healthz, /readyz, /metrics, the
database-latency histogram and consumer lag per partition.

HTTP services mount ``ops_routes`` into their app; the consumers (aggregator, notifier)
serve the same routes from ``OpsServer``, a small uvicorn server inside their event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import uvicorn
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse, Response
from faststream.kafka import KafkaBroker
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Gauge, Histogram, generate_latest
from pythonjsonlogger.json import JsonFormatter

from .kafka import FASTSTREAM_LOG
from .periodic import Periodic

__all__ = [
    "CONSUMER_LAG",
    "DB_SECONDS",
    "LagReporter",
    "OpsServer",
    "ReadinessCheck",
    "configure_logging",
    "db_timer",
    "is_own_or_warning",
    "ops_routes",
    "readiness",
]

DB_SECONDS = Histogram(
    "glassboard_db_query_seconds", "Time spent in the database per unit of work",
    ["service", "operation"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
CONSUMER_LAG = Gauge(
    "glassboard_consumer_lag", "Records on the partition not yet consumed by this member",
    ["group", "topic", "partition"],
)

ReadinessCheck = Callable[[], Awaitable[dict[str, str]]]


#: Top-level logger names that speak for Glassboard itself (``glassboard.mail`` too).
OWN_LOGGERS = ("services", "shared", "devtools", "glassboard")


def is_own_or_warning(record: logging.LogRecord) -> bool:
    """What a developer's console keeps when a log file takes the rest: Glassboard's own
    lines at every level, and warnings and errors from any library. FastStream's lines
    count as a library's, though ``make_broker`` routes them through a logger of ours."""
    if record.levelno >= logging.WARNING:
        return True
    name = f"{record.name}."
    return (name.partition(".")[0] in OWN_LOGGERS
            and not name.startswith(f"{FASTSTREAM_LOG.name}."))


def configure_logging(level: str, fmt: str = "json", *, log_file: Path | None = None) -> None:
    """One JSON object per line (``fmt="json"``), fields from ``extra=`` kept as keys:
    ``log.warning("…", extra={"event_id": …})`` makes the event id searchable.

    With ``log_file`` (``glassboard dev``), every line is also appended there and stderr
    keeps only ``is_own_or_warning`` lines: aiokafka's group-join chatter and uvicorn's
    start-up lines at INFO would otherwise bury the service's own."""
    if fmt == "json":
        formatter: logging.Formatter = JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    else:
        formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    console = logging.StreamHandler(sys.stderr)
    handlers: list[logging.Handler] = [console]
    if log_file is not None:
        console.addFilter(is_own_or_warning)
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = handlers
    root.setLevel(level.upper())


@contextlib.contextmanager
def db_timer(service: str, operation: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        DB_SECONDS.labels(service, operation).observe(time.perf_counter() - started)


def readiness(pool: Callable[[], asyncpg.Pool | None], broker: KafkaBroker,
              timeout: float = 2.0) -> ReadinessCheck:
    """A check that both PostgreSQL and Kafka answer within ``timeout`` seconds."""

    async def check() -> dict[str, str]:
        status = {"database": "ok", "kafka": "ok"}
        current = pool()
        try:
            if current is None:
                raise RuntimeError("not started")
            await asyncio.wait_for(current.fetchval("SELECT 1"), timeout)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, RuntimeError,
                TimeoutError) as exc:
            status["database"] = f"unreachable: {type(exc).__name__}"
        if not await broker.ping(timeout):
            status["kafka"] = "unreachable"
        return status

    return check


def ops_routes(check: Callable[[], ReadinessCheck | None]) -> APIRouter:
    """/healthz (the process answers), /readyz (its broker and database answer) and
    /metrics (Prometheus text format, served at that exact path: no redirect)."""
    router = APIRouter(include_in_schema=False)

    @router.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    @router.get("/healthz")
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @router.get("/readyz")
    async def readyz() -> JSONResponse:
        current = check()
        if current is None:
            return JSONResponse({"status": "starting"}, status_code=503)
        status = await current()
        ready = all(v == "ok" for v in status.values())
        return JSONResponse({"status": "ready" if ready else "not ready", **status},
                            status_code=200 if ready else 503)

    return router


class _QuietServer(uvicorn.Server):
    """Leaves signals to the service it runs in: uvicorn would otherwise take SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class OpsServer:
    """/metrics, /healthz and /readyz for a service that has no HTTP app of its own."""

    def __init__(self, host: str, port: int, check: Callable[[], ReadinessCheck | None]) -> None:
        app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
        app.include_router(ops_routes(check))
        config = uvicorn.Config(app, host=host, port=port, access_log=False,
                                log_level="warning", lifespan="off")
        self._server = _QuietServer(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve(), name="ops-server")
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises the bind error
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        if self._task is not None:
            self._server.should_exit = True
            await self._task
            self._task = None


class LagReporter(Periodic):
    """Every few seconds, per assigned partition: the broker's high watermark minus this
    member's position, as ``glassboard_consumer_lag``. Read from the consumers themselves,
    which see the watermark in every fetch; tansu's ListOffsets answers short (bench/)."""

    def __init__(self, broker: KafkaBroker, interval: float = 5.0) -> None:
        super().__init__("lag-reporter", interval, self.report)
        self._broker = broker
        self._reported: set[tuple[str, str, str]] = set()

    async def report(self) -> None:
        """Set the gauge of every partition this member holds; drop the ones it lost in a
        rebalance, which now belong to another member's series."""
        reported: set[tuple[str, str, str]] = set()
        for subscriber in self._broker.subscribers:
            consumer: Any = getattr(subscriber, "consumer", None)
            group = getattr(consumer, "_group_id", None)
            if consumer is None or group is None:
                continue  # a group-less reader (the ratings app's score feed) has no lag to own
            for tp in consumer.assignment():
                highwater = consumer.highwater(tp)
                if highwater is None:
                    continue
                position = await consumer.position(tp)
                labels = (group, tp.topic, str(tp.partition))
                CONSUMER_LAG.labels(*labels).set(max(highwater - position, 0))
                reported.add(labels)
        for labels in self._reported - reported:
            with contextlib.suppress(KeyError):
                CONSUMER_LAG.remove(*labels)
        self._reported = reported
