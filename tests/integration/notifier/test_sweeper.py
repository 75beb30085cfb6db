"""The notifier's sweep: a drop must last the confirmation delay, and the sweep fires it
when no new state arrives."""

from __future__ import annotations

import asyncio

from harness.db import fetch, fetchval
from harness.notifier import (
    DROPPED,
    HEALTHY,
    SmtpServer,
    for_notifier,
    publish_scores,
    score_state,
    start_notifier,
)
from harness.stack import Stack, eventually


async def test_a_drop_must_last_the_confirmation_delay_and_the_sweep_fires_it(
    stack: Stack, smtp: SmtpServer,
) -> None:
    settings = for_notifier(stack.settings, smtp.port, alert_confirm_minutes=0.05)  # 3 s
    await start_notifier(stack, settings, sweep_seconds=0.3)
    # A dip that is over before the delay: pending, then armed again, never sent.
    for revision, figures in enumerate([HEALTHY, DROPPED, HEALTHY], start=1):
        await publish_scores(settings, [score_state("one-pager", revision, **figures)])
        await eventually(lambda: fetchval(settings, "SELECT revision FROM alert_asset_state"),
                         lambda applied, revision=revision: applied == revision)
    # A drop that lasts: no new state arrives, the sweep fires it once the delay is over.
    await publish_scores(settings, [score_state("one-pager", 4, **DROPPED)])
    pending = await eventually(
        lambda: fetch(settings, "SELECT status, episode FROM alert_rule_state "
                                "WHERE rule = 'score_drop'"),
        lambda rows: rows != [] and rows[0]["status"] in ("pending", "firing"))
    await eventually(lambda: asyncio.sleep(0, smtp.messages), lambda m: len(m) == 1)
    await asyncio.sleep(1.0)
    assert len(smtp.messages) == 1
    assert await fetch(settings, "SELECT revision, episode FROM alerts") == [
        {"revision": 4, "episode": 1}]
    assert pending[0]["episode"] in (0, 1)
