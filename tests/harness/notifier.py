"""What the notifier's connected tests share: a real SMTP server (aiosmtpd, in-process), a
real HTTP webhook receiver, score states to publish, the deliveries table, and the notifier
as a real process (``glassboard notifier``) to kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import EmailMessage
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer
from aiosmtpd.controller import Controller
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from devtools.mail_sink import MailSink
from devtools.settings import StackSettings
from harness.db import fetch
from harness.stack import RunningServer, Stack, eventually
from services.notifier.config import HOLD_ENV
from services.notifier.main import NotifierService
from shared.embedded import free_port
from shared.kafka import group_options, make_broker, publish_keyed
from shared.scores import AssetScoreUpdate, UsageTotals, WindowScore

__all__ = [
    "COMMAND",
    "killed_before_delivery_then_restarted",
    "DROPPED",
    "HEALTHY",
    "SmtpServer",
    "WebhookReceiver",
    "deliveries",
    "delivery_states",
    "for_notifier",
    "kill",
    "notifier_env",
    "publish_scores",
    "rewind_kafka_offsets",
    "score_state",
    "start_notifier",
]

# A fall of 15 points whose views fell for real: 40 against 100 in the period before.
HEALTHY: dict[str, Any] = {"score": 70, "previous_score": 70, "views": 100, "previous_views": 100}
DROPPED: dict[str, Any] = {"score": 55, "previous_score": 70, "views": 40, "previous_views": 100}


class SmtpServer:
    """aiosmtpd on a port of its own, in its own thread; ``messages`` as received."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.sink = MailSink()
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self) -> list[EmailMessage]:
        return self.sink.messages

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


@dataclass
class WebhookReceiver:
    """A Starlette app answering POST /hook with the next planned status (then 200)."""

    statuses: list[int] = field(default_factory=list)
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    server: RunningServer | None = None

    async def _hook(self, request: Request) -> JSONResponse:
        self.received.append((dict(request.headers), await request.body()))
        status = self.statuses.pop(0) if self.statuses else 200
        return JSONResponse({"ok": status < 300}, status_code=status)

    async def start(self) -> WebhookReceiver:
        app = Starlette(routes=[Route("/hook", self._hook, methods=["POST"])])
        self.server = await RunningServer(app, free_port()).start()
        return self

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"{self.server.url}/hook"

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()


def for_notifier(settings: StackSettings, smtp_port: int | None, **overrides: Any) -> StackSettings:
    """The test's settings with SMTP pointed at ``smtp_port``, no confirmation delay and
    quick retries."""
    values: dict[str, Any] = {
        "smtp_host": "127.0.0.1" if smtp_port else "", "smtp_port": smtp_port or 587,
        "smtp_from": "Glassboard Alerts <alerts@glassboard.example.com>",
        "alert_confirm_minutes": 0.0, "alert_retry_base_seconds": 0.2,
        "alert_retry_max_seconds": 1.0, "webhook_signing_secret": "whsec-test",
        "public_ratings_url": f"http://127.0.0.1:{settings.ratings_port}",
        "webhook_timeout_seconds": 2.0, "smtp_timeout_seconds": 3.0,
    }
    values.update(overrides)
    return StackSettings(**{**settings.model_dump(), **values})


async def start_notifier(stack: Stack, settings: StackSettings, **kwargs: Any) -> NotifierService:
    notifier = NotifierService(settings, **kwargs)
    await notifier.start()
    stack.running.append(notifier)
    return notifier


def score_state(asset_id: str, revision: int, *, owner: str = "owner@example.com",
                title: str | None = None, weekly: list[int] | None = None,
                **window: Any) -> AssetScoreUpdate:
    """One asset-scores message with the 30-day window's figures given."""
    figures: dict[str, Any] = dict(
        since="2026-01-01", score=70, previous_score=70, bayesian_average=3.8,
        rating_count=0, rating_mean=None, views=100, previous_views=100, rating_part=0.7,
        engagement_part=0.5, viewers_percentile=0.5, engagement_percentile=0.5,
        downloads_percentile=0.5)
    figures.update(window)
    return AssetScoreUpdate(
        asset_id=asset_id, revision=revision, title=title or asset_id.replace("-", " ").title(),
        asset_type="deck", owner_email=owner, totals=UsageTotals(views=1000),
        updated_at=datetime.now(timezone.utc), scores={"30d": WindowScore(**figures)},
        weekly_views=weekly or [25, 25, 25, 25, 25])


async def publish_scores(settings: StackSettings, updates: list[AssetScoreUpdate]) -> None:
    """Publish the states, their assets first put in the catalog (as the ratings service
    holds every asset the aggregator scores): the notifier reads owner and title there."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.executemany(
            "INSERT INTO assets (id, title, type, url, owner_email) VALUES ($1, $2, 'deck', "
            "'https://cdn.example.com/' || $1, $3) ON CONFLICT (id) DO NOTHING",
            [(u.asset_id, u.title or u.asset_id, u.owner_email) for u in updates])
    finally:
        await conn.close()
    broker = make_broker(settings.kafka_bootstrap_servers)
    await broker.start()
    try:
        for u in updates:  # one at a time, in order, as the aggregator publishes them
            await publish_keyed(broker, settings.topics.asset_scores.name,
                                [(u.asset_id, u.model_dump_json().encode())])
    finally:
        await broker.stop()


async def deliveries(settings: StackSettings) -> list[dict[str, object]]:
    return await fetch(settings, "SELECT channel, state, attempts, last_error FROM "
                                 "alert_deliveries ORDER BY id")


COMMAND = [sys.executable, "-m", "services.cli", "notifier"]


def notifier_env(settings: StackSettings, smtp_port: int) -> dict[str, str]:
    """The environment of a notifier process of this test (COMMAND)."""
    return {
        **os.environ, "DATABASE_URL": settings.database_url,
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "KAFKA_TOPIC_PREFIX": settings.topic_prefix, "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port), "SMTP_FROM": "alerts@glassboard.example.com",
        "ALERT_CONFIRM_MINUTES": "0", "ALERT_RETRY_BASE_SECONDS": "0.2",
        "ALERT_RETRY_MAX_SECONDS": "1", "LOG_LEVEL": os.environ.get("NOTIFIER_TEST_LOG", "WARNING"),
    }


def kill(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(10)


async def killed_before_delivery_then_restarted(
    settings: StackSettings, env: dict[str, str], smtp: SmtpServer,
    publish: Callable[[], Awaitable[None]], processes: list[subprocess.Popen[bytes]],
) -> None:
    """A notifier process decides what ``publish`` sends but its delivery worker is held:
    killed (SIGKILL) before sending, nothing is sent; restarted, the pending delivery goes
    out once and the process exits cleanly on SIGTERM. Processes land in ``processes``,
    for the caller to clean up."""
    processes.append(subprocess.Popen(COMMAND, env={**env, HOLD_ENV: "300"}))
    await publish()
    await eventually(lambda: delivery_states(settings), lambda d: d == [("pending", 0)],
                     timeout=60)
    kill(processes[-1])
    assert smtp.messages == []
    processes.append(subprocess.Popen(COMMAND, env=env))
    await eventually(lambda: delivery_states(settings), lambda d: d == [("sent", 1)],
                     timeout=60)
    processes[-1].send_signal(signal.SIGTERM)
    assert processes[-1].wait(15) == 0


async def delivery_states(settings: StackSettings) -> list[tuple[str, int]]:
    rows = await fetch(settings, "SELECT state, attempts FROM alert_deliveries ORDER BY id")
    return [(r["state"], r["attempts"]) for r in rows]


async def rewind_kafka_offsets(settings: StackSettings) -> None:
    """What an operator's --reset-offsets would do: Kafka now says "start from 0" on every
    topic the notifier's group reads. Run it while no notifier is in the group."""
    topics = settings.topics
    specs = (topics.asset_scores, topics.events, topics.link_visits)
    consumer = AIOKafkaConsumer(*(spec.name for spec in specs),
                                bootstrap_servers=settings.kafka_bootstrap_servers,
                                group_id=topics.group_notifier, enable_auto_commit=False,
                                **group_options(settings.kafka_session_timeout_ms))
    await consumer.start()
    try:
        while len(consumer.assignment()) < sum(spec.partitions for spec in specs):
            await consumer.getmany(timeout_ms=200)
        await consumer.commit({tp: 0 for tp in consumer.assignment()})
    finally:
        await consumer.stop()
