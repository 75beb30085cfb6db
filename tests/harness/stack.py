"""The running stack: the real services in the test's event loop, and polling for results."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import asyncpg
import httpx
import uvicorn
from aiokafka import AIOKafkaConsumer

from devtools.settings import StackSettings
from services.aggregator.main import AggregatorService
from services.ingest.main import create_app as create_ingest_app
from services.ratings.identity.models import Role
from services.ratings.identity.store import add_user, create_ingest_key, create_token
from services.ratings.main import create_app as create_ratings_app

__all__ = ["RunningServer", "Stack", "consume_all", "eventually"]

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]],
    until: Callable[[T], bool],
    timeout: float = 20.0,
    interval: float = 0.1,
) -> T:
    """Poll ``probe`` until ``until(result)`` holds; fail with the last result otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if until(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last result: {result!r}")
        await asyncio.sleep(interval)


class RunningServer:
    """A real uvicorn server on a real port, inside the test's event loop."""

    def __init__(self, app: Any, port: int) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                access_log=False, lifespan="on")
        self.server = uvicorn.Server(config)
        self.url = f"http://127.0.0.1:{port}"
        self._task: asyncio.Task[None] | None = None

    @property
    def app(self) -> Any:
        """The ASGI app this server runs (uvicorn's config holds it), e.g. to reach its state."""
        return self.server.config.app

    async def start(self) -> RunningServer:
        self._task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.02)
        return self

    async def stop(self) -> None:
        self.server.should_exit = True
        if self._task:
            await self._task


@dataclass
class Stack:
    """Starts the services a test needs against its own database and topic prefix."""

    settings: StackSettings
    running: list[Any] = field(default_factory=list)
    _tokens: dict[str, str] = field(default_factory=dict)

    async def ingest(self) -> RunningServer:
        app = create_ingest_app(self.settings)
        server = await RunningServer(app, self.settings.ingest_port).start()
        self.running.append(server)
        return server

    async def ratings(self) -> RunningServer:
        app = create_ratings_app(self.settings)
        server = await RunningServer(app, self.settings.ratings_port).start()
        self.running.append(server)
        return server

    async def aggregator(self) -> AggregatorService:
        service = AggregatorService(self.settings)
        await service.start()
        self.running.append(service)
        return service

    async def stop(self, service: Any) -> None:
        await service.stop()
        self.running.remove(service)

    async def close(self) -> None:
        for service in reversed(self.running):
            await service.stop()
        self.running.clear()

    async def add_asset(self, asset_id: str, **overrides: str) -> None:
        conn = await asyncpg.connect(self.settings.database_url)
        try:
            await conn.execute(
                "INSERT INTO assets (id, title, type, url, owner_email) "
                "VALUES ($1, $2, $3, $4, $5)",
                asset_id,
                overrides.get("title", asset_id.replace("-", " ").title()),
                overrides.get("type", "product_sheet"),
                overrides.get("url", f"https://cdn.example.com/{asset_id}.pdf"),
                overrides.get("owner_email", "owner@example.com"),
            )
        finally:
            await conn.close()

    async def user(self, email: str, role: str = "admin", name: str = "") -> tuple[int, str]:
        """Create (or update) a user directly in the database; returns (id, API token)."""
        pool = await asyncpg.create_pool(self.settings.database_url, min_size=1, max_size=1)
        try:
            user = await add_user(pool, email, Role(role), name)
            return user.id, await create_token(pool, user, "test")
        finally:
            await pool.close()

    async def ingest_key(self) -> dict[str, str]:
        """Headers carrying a new ingest key, for batch API calls that name a viewer or a
        User-Agent (a server-side integration). Make it before ``ingest()`` starts: ingest
        loads keys at start, then every INGEST_KEY_REFRESH_SECONDS."""
        pool = await asyncpg.create_pool(self.settings.database_url, min_size=1, max_size=1)
        try:
            _, token = await create_ingest_key(pool, "test", ["events:write"], None)
        finally:
            await pool.close()
        return {"authorization": f"Bearer {token}"}

    async def client(self, role: str = "admin") -> httpx.AsyncClient:
        """A client of the ratings app, signed in with an API token of a user in ``role``."""
        if role not in self._tokens:
            _, self._tokens[role] = await self.user(f"{role}-tester@example.com", role)
        return self.client_for(self._tokens[role])

    def client_for(self, token: str) -> httpx.AsyncClient:
        """A client of the ratings app signed in with ``token`` (one ``user`` returned)."""
        return httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{self.settings.ratings_port}",
            headers={"authorization": f"Bearer {token}"},
        )

    async def rejected_summary(self) -> dict[str, Any]:
        """GET /v1/rejected-events/summary as an admin."""
        async with await self.client() as client:
            response = await client.get("/v1/rejected-events/summary")
            response.raise_for_status()
            return response.json()  # type: ignore[no-any-return]

    async def usage(self, asset_id: str, window: str = "7d") -> dict[str, Any]:
        async with await self.client() as client:
            response = await client.get(f"/v1/assets/{asset_id}/usage", params={"window": window})
            response.raise_for_status()
            return response.json()  # type: ignore[no-any-return]


async def consume_all(
    bootstrap: str, topic: str, *, expect: int, timeout: float = 15.0
) -> list[Any]:
    """Read a topic from the start until ``expect`` records arrived (or time runs out)."""
    # No group: every partition is read at once, with no group join to wait for.
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    records: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while len(records) < expect and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for partition_records in batch.values():
                records.extend(partition_records)
    finally:
        await consumer.stop()
    return records
