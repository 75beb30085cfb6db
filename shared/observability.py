"""What every service exposes to operations: JSON logs, /healthz, /readyz, /metrics, the
database-latency histogram and consumer lag per partition.

HTTP services call ``mount_ops`` on their app; the consumers (aggregator, notifier) serve
the same routes from ``OpsServer``, a small uvicorn server inside their event loop.
OPS_ACCESS says who reaches /metrics and the API docs on an HTTP service's public port
(``shared.settings.OpsAccessSettings``): anyone, the holders of OPS_TOKEN, or nobody, in
which case the ops port serves them.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import uvicorn
from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from faststream.kafka import KafkaBroker
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Gauge, Histogram, generate_latest
from pythonjsonlogger.json import JsonFormatter
from starlette.types import ASGIApp, Receive, Scope, Send

from .kafka import FASTSTREAM_LOG
from .periodic import Periodic
from .settings import OpsAccess, OpsAccessSettings

__all__ = [
    "CONSUMER_LAG",
    "DB_SECONDS",
    "LagReporter",
    "OPS_PATHS",
    "OpsGate",
    "OpsServer",
    "ReadinessCheck",
    "configure_logging",
    "db_timer",
    "is_own_or_warning",
    "mount_ops",
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


#: What OPS_ACCESS governs on a public port: the metrics, and FastAPI's API docs.
OPS_PATHS = frozenset({"/metrics", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"})


class OpsGate:
    """ASGI middleware before everything else of an HTTP app: OPS_PATHS answer 404 when
    private (the same body as a path that does not exist) and 401 without the bearer
    token when gated by one; every other path passes untouched."""

    def __init__(self, app: ASGIApp, mode: OpsAccess, token: str) -> None:
        self.app = app
        self.mode = mode
        self._expected = f"bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["path"] not in OPS_PATHS or self.mode == "public"
                or (self.mode == "token" and self._bearer_matches(scope))):
            await self.app(scope, receive, send)
            return
        if self.mode == "private":
            refusal = JSONResponse({"detail": "Not Found"}, status_code=404)
        else:
            refusal = JSONResponse({"detail": "this needs Authorization: Bearer <OPS_TOKEN>"},
                                   status_code=401, headers={"WWW-Authenticate": "Bearer"})
        await refusal(scope, receive, send)

    def _bearer_matches(self, scope: Scope) -> bool:
        given = [v for k, v in scope["headers"] if k == b"authorization"]
        if len(given) != 1:
            return False
        scheme, _, token = given[0].partition(b" ")
        # Constant-time over the whole header; the scheme is case-insensitive (RFC 9110).
        return hmac.compare_digest(scheme.lower() + b" " + token.strip(), self._expected)


def mount_ops(app: FastAPI, settings: OpsAccessSettings,
              check: Callable[[], ReadinessCheck | None]) -> None:
    """/healthz, /readyz and /metrics on ``app``, with /metrics and the API docs gated by
    OPS_ACCESS. When private, they are served on METRICS_HOST:METRICS_PORT instead, by an
    OpsServer in a router lifespan, which FastAPI runs inside the app's own: it starts
    once the app has, and stops before it does."""
    app.include_router(ops_routes(check))
    app.add_middleware(OpsGate, mode=settings.ops_mode,
                       token=settings.ops_token.get_secret_value())
    if settings.ops_mode != "private" or not settings.metrics_port:
        return
    server = OpsServer(settings.metrics_host, settings.metrics_port, check, docs_of=app)

    @contextlib.asynccontextmanager
    async def ops_port(_: Any) -> AsyncIterator[None]:
        await server.start()
        try:
            yield
        finally:
            await server.stop()

    app.include_router(APIRouter(lifespan=ops_port))


def docs_routes(main: FastAPI) -> APIRouter:
    """``main``'s OpenAPI document, Swagger UI and ReDoc, for a port other than its own."""
    router = APIRouter(include_in_schema=False)

    @router.get("/openapi.json")
    async def openapi() -> JSONResponse:
        return JSONResponse(main.openapi())

    @router.get("/docs")
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{main.title} - API")

    @router.get("/redoc")
    async def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url="/openapi.json", title=f"{main.title} - API")

    return router


class _QuietServer(uvicorn.Server):
    """Leaves signals to the service it runs in: uvicorn would otherwise take SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class OpsServer:
    """/metrics, /healthz and /readyz for a service that has no HTTP app of its own, or
    whose public port keeps them private (with ``docs_of``: that app's API docs too)."""

    def __init__(self, host: str, port: int, check: Callable[[], ReadinessCheck | None],
                 docs_of: FastAPI | None = None) -> None:
        app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
        app.include_router(ops_routes(check))
        if docs_of is not None:
            app.include_router(docs_routes(docs_of))
        # log_config=None: uvicorn's own dictConfig would give its loggers plain-text
        # handlers, and every uvicorn line of the process would stop being JSON.
        config = uvicorn.Config(app, host=host, port=port, access_log=False,
                                log_level="warning", log_config=None, lifespan="off")
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
