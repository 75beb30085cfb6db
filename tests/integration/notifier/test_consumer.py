"""The notifier's consumer on the real broker and PostgreSQL, with a real SMTP server: a
score state that drops sends exactly one alert, whatever arrives again or late."""

from __future__ import annotations

import asyncio

from prometheus_client import REGISTRY

from harness.db import fetch, fetchval
from harness.notifier import (
    DROPPED,
    HEALTHY,
    SmtpServer,
    deliveries,
    for_notifier,
    publish_scores,
    score_state,
    start_notifier,
)
from harness.stack import Stack, eventually


async def test_a_score_drop_sends_exactly_one_email(stack: Stack, smtp: SmtpServer) -> None:
    settings = for_notifier(stack.settings, smtp.port)
    await start_notifier(stack, settings)
    raised, sent = alerts_metric("raised"), alerts_metric("sent")
    await publish_scores(settings, [score_state("pitch-deck", 1, **HEALTHY),
                                    score_state("pitch-deck", 2, **DROPPED)])
    await eventually(lambda: asyncio.sleep(0, smtp.messages), lambda m: len(m) == 1)

    # The same state again, and an older one arriving late, change nothing.
    await publish_scores(settings, [score_state("pitch-deck", 2, **DROPPED),
                                    score_state("pitch-deck", 1, **HEALTHY),
                                    score_state("pitch-deck", 3, **DROPPED)])
    await eventually(lambda: fetchval(settings, "SELECT revision FROM alert_asset_state"),
                     lambda revision: revision == 3)
    await asyncio.sleep(1.0)
    [mail] = smtp.messages
    assert mail["To"] == "owner@example.com"
    assert mail["Subject"] == "Glassboard alert: Score drop on “Pitch Deck”"
    assert mail["From"] == "Glassboard Alerts <alerts@glassboard.example.com>"
    key = await fetchval(settings, "SELECT message_key::text FROM alert_deliveries")
    assert mail["Message-ID"].strip() == f"<alert-{key}@glassboard.example.com>"
    link = f"{settings.ratings_base_url}/assets/pitch-deck"
    text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    html = mail.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert "fell 15 points to 55" in text and f"Open the asset: {link}" in text
    assert f'href="{link}"' in html
    alerts = await fetch(settings, "SELECT asset_id, rule, episode, revision FROM alerts")
    assert alerts == [{"asset_id": "pitch-deck", "rule": "score_drop", "episode": 1,
                       "revision": 2}]
    assert await deliveries(settings) == [
        {"channel": "email", "state": "sent", "attempts": 1, "last_error": None}]
    # /metrics: glassboard_alerts_total by outcome moved by exactly this alert.
    assert (alerts_metric("raised") - raised, alerts_metric("sent") - sent) == (1, 1)


def alerts_metric(outcome: str) -> float:
    return REGISTRY.get_sample_value("glassboard_alerts_total", {"outcome": outcome}) or 0.0


async def test_a_deactivated_owner_hears_nothing_but_the_alert_is_kept(
    stack: Stack, smtp: SmtpServer,
) -> None:
    """Deactivating a user (ratings' admin API) stops every alert mail and webhook to them;
    the alert itself is still raised and kept."""
    settings = for_notifier(stack.settings, smtp.port)
    stack.settings = settings
    owner_id, _ = await stack.user("gone@example.com", "marketing")
    await stack.ratings()
    async with await stack.client() as admin:
        r = await admin.post(f"/v1/users/{owner_id}/deactivate")
        assert r.status_code == 200, r.text
    await start_notifier(stack, settings)
    await publish_scores(settings, [score_state("old-deck", 1, owner="gone@example.com",
                                                **HEALTHY),
                                    score_state("old-deck", 2, owner="gone@example.com",
                                                **DROPPED)])
    await eventually(lambda: fetchval(settings, "SELECT count(*) FROM alerts"),
                     lambda n: n == 1)
    await asyncio.sleep(1.5)  # the delivery worker would have sent by now
    assert smtp.messages == []
    assert await deliveries(settings) == []
