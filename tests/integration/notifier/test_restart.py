"""Restarting the notifier never loses a decided alert and never sends one twice: the
notifier runs as a real process (``glassboard notifier``) and is killed with SIGKILL."""

from __future__ import annotations

import asyncio
import signal
import subprocess

from devtools.settings import StackSettings
from harness.db import fetchval
from harness.notifier import (
    COMMAND,
    DROPPED,
    HEALTHY,
    SmtpServer,
    delivery_states,
    killed_before_delivery_then_restarted,
    notifier_env,
    publish_scores,
    rewind_kafka_offsets,
    score_state,
)
from harness.stack import eventually


async def test_killed_between_decision_and_delivery_delivers_once_and_never_again(
    settings: StackSettings,
) -> None:
    smtp = SmtpServer().start()
    env = notifier_env(settings, smtp.port)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        # 1. It decides, but its delivery worker is held: killed before sending.
        # 2. Restarted: the pending delivery goes out, once.
        await killed_before_delivery_then_restarted(
            settings, env, smtp, lambda: publish_scores(settings, [
                score_state("pricing", 1, **HEALTHY), score_state("pricing", 2, **DROPPED)]),
            processes)
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
