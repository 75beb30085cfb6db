"""Restarting the notifier never loses a decided alert and never sends one twice: the
notifier runs as a real process (``glassboard notifier``) and is killed with SIGKILL."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

from aiokafka import AIOKafkaConsumer

from devtools.settings import StackSettings
from harness.db import fetch, fetchval
from harness.notifier import DROPPED, HEALTHY, SmtpServer, publish_scores, score_state
from harness.stack import eventually
from services.notifier.config import HOLD_ENV
from shared.kafka import group_options

COMMAND = [sys.executable, "-m", "services.cli", "notifier"]


def notifier_env(settings: StackSettings, smtp_port: int) -> dict[str, str]:
    return {
        **os.environ, "DATABASE_URL": settings.database_url,
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "KAFKA_TOPIC_PREFIX": settings.topic_prefix, "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port), "SMTP_FROM": "alerts@glassboard.example.com",
        "ALERT_CONFIRM_MINUTES": "0", "ALERT_RETRY_BASE_SECONDS": "0.2",
        "ALERT_RETRY_MAX_SECONDS": "1", "LOG_LEVEL": os.environ.get("NOTIFIER_TEST_LOG", "WARNING"),
    }


async def delivery_states(settings: StackSettings) -> list[tuple[str, int]]:
    rows = await fetch(settings, "SELECT state, attempts FROM alert_deliveries ORDER BY id")
    return [(r["state"], r["attempts"]) for r in rows]


async def rewind_kafka_offsets(settings: StackSettings) -> None:
    """What an operator's --reset-offsets would do: Kafka now says "start from 0"."""
    topics = settings.topics
    consumer = AIOKafkaConsumer(topics.asset_scores.name, topics.events.name,
                                bootstrap_servers=settings.kafka_bootstrap_servers,
                                group_id=topics.group_notifier, enable_auto_commit=False,
                                **group_options(settings.kafka_session_timeout_ms))
    await consumer.start()
    try:
        wanted = topics.asset_scores.partitions + topics.events.partitions
        while len(consumer.assignment()) < wanted:
            await consumer.getmany(timeout_ms=200)
        await consumer.commit({tp: 0 for tp in consumer.assignment()})
    finally:
        await consumer.stop()


def kill(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(10)


async def test_killed_between_decision_and_delivery_delivers_once_and_never_again(
    settings: StackSettings,
) -> None:
    smtp = SmtpServer().start()
    env = notifier_env(settings, smtp.port)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        # 1. It decides, but its delivery worker is held: killed before sending.
        processes.append(subprocess.Popen(COMMAND, env={**env, HOLD_ENV: "300"}))
        await publish_scores(settings, [score_state("pricing", 1, **HEALTHY),
                                        score_state("pricing", 2, **DROPPED)])
        await eventually(lambda: delivery_states(settings), lambda d: d == [("pending", 0)],
                         timeout=60)
        kill(processes[-1])
        assert smtp.messages == []

        # 2. Restarted: the pending delivery goes out, once.
        processes.append(subprocess.Popen(COMMAND, env=env))
        await eventually(lambda: delivery_states(settings), lambda d: d == [("sent", 1)],
                         timeout=60)
        processes[-1].send_signal(signal.SIGTERM)
        assert processes[-1].wait(15) == 0
        assert len(smtp.messages) == 1

        # 3. Restarted again, with Kafka's offsets rewound to 0: the position in
        #    PostgreSQL wins and the same alert is neither decided nor sent again.
        await rewind_kafka_offsets(settings)
        processes.append(subprocess.Popen(COMMAND, env=env))
        await publish_scores(settings, [score_state("pricing", 3, **DROPPED)])
        await eventually(lambda: fetchval(settings, "SELECT revision FROM alert_asset_state"),
                         lambda revision: revision == 3, timeout=60)
        await asyncio.sleep(1.5)
        processes[-1].send_signal(signal.SIGTERM)
        assert processes[-1].wait(15) == 0
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
        smtp.stop()
    assert len(smtp.messages) == 1
    assert await fetchval(settings, "SELECT count(*) FROM alerts") == 1
    assert await delivery_states(settings) == [("sent", 1)]
