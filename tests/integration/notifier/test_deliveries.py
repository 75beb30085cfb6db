"""The notifier's deliveries on the real broker and PostgreSQL, with a real SMTP server
(aiosmtpd) and a real HTTP webhook receiver: signed webhooks and their retries, SMTP down
then up, a webhook that refuses for good, and the daily digest."""

from __future__ import annotations

import asyncio
import json

from harness.db import fetch, fetchval
from harness.notifier import (
    DROPPED,
    HEALTHY,
    SmtpServer,
    WebhookReceiver,
    deliveries,
    for_notifier,
    publish_scores,
    score_state,
    start_notifier,
)
from harness.stack import Stack, eventually
from shared.embedded import free_port
from shared.webhooks import receiver_secret, verify


async def test_a_rating_wobbling_around_its_threshold_alerts_once_by_email_and_signed_webhook(
    stack: Stack, smtp: SmtpServer,
) -> None:
    receiver = await WebhookReceiver(statuses=[503]).start()  # the first attempt fails
    try:
        owner_id, _ = await stack.user("marta@example.com", "marketing")
        settings = for_notifier(stack.settings, smtp.port)
        await fetch(settings, "INSERT INTO alert_preferences (user_id, webhook_url) VALUES ($1, $2)",
                    owner_id, receiver.url)
        await start_notifier(stack, settings)
        # Threshold 3.0, re-armed at 3.25: 2.6 fires; 3.1, 2.8 and 3.2 stay one episode.
        states = [score_state("case-study", rev, owner="marta@example.com", bayesian_average=avg,
                              rating_count=30, rating_mean=avg - 0.3)
                  for rev, avg in enumerate([3.6, 2.6, 3.1, 2.8, 3.2, 2.7], start=1)]
        for state in states:  # one by one: a batch applies only the newest state per asset
            await publish_scores(settings, [state])
            await eventually(lambda: fetchval(settings, "SELECT revision FROM alert_asset_state"),
                             lambda revision, state=state: revision == state.revision)
        await eventually(lambda: asyncio.sleep(0, receiver.received), lambda r: len(r) == 2)
        await eventually(lambda: asyncio.sleep(0, smtp.messages), lambda m: len(m) == 1)
        await asyncio.sleep(1.0)
    finally:
        await receiver.stop()
    assert len(smtp.messages) == 1 and len(receiver.received) == 2
    assert await fetch(settings, "SELECT rule, episode FROM alerts") == [
        {"rule": "rating_below", "episode": 1}]
    (first_headers, first_body), (headers, body) = receiver.received
    assert body == first_body  # a retry sends the same message...
    assert headers["x-glassboard-delivery"] == first_headers["x-glassboard-delivery"]
    # Signed with this receiver's own secret (derived from the key id stored with its URL),
    # over the timestamp and the body (test_webhook_security gets it the owner's way).
    key_id = await fetchval(settings, "SELECT webhook_key_id FROM alert_preferences "
                                      "WHERE user_id = $1", owner_id)
    assert headers["x-glassboard-timestamp"].isdigit()
    assert verify(body, headers["x-glassboard-timestamp"], headers["x-glassboard-signature"],
                  receiver_secret("whsec-test", key_id))
    assert not verify(body, headers["x-glassboard-timestamp"],
                      headers["x-glassboard-signature"], "whsec-test")
    assert headers["content-type"] == "application/json"
    payload = json.loads(body)
    assert "2.60 stars" in payload["text"] and payload["blocks"][0]["type"] == "section"
    assert "/assets/case-study|Case Study>" in payload["blocks"][0]["text"]["text"]
    by_channel = {d["channel"]: d for d in await deliveries(settings)}
    assert by_channel["webhook"]["state"] == "sent" and by_channel["webhook"]["attempts"] == 2
    assert by_channel["email"]["state"] == "sent"


async def test_smtp_down_then_up_delivers_the_alert_once(stack: Stack) -> None:
    port = free_port()  # nothing listens here yet
    settings = for_notifier(stack.settings, port)
    await start_notifier(stack, settings)
    await publish_scores(settings, [score_state("battlecard", 1, **HEALTHY),
                                    score_state("battlecard", 2, **DROPPED)])
    waiting = await eventually(lambda: deliveries(settings),
                               lambda d: len(d) == 1 and int(d[0]["attempts"]) >= 2, timeout=30)
    assert waiting[0]["state"] in ("pending", "sending")
    assert "SMTP 127.0.0.1" in str(waiting[0]["last_error"])
    smtp = SmtpServer(port).start()
    try:
        await eventually(lambda: deliveries(settings), lambda d: d[0]["state"] == "sent",
                         timeout=30)
        await asyncio.sleep(1.5)  # longer than the largest backoff: nothing else arrives
        assert len(smtp.messages) == 1
    finally:
        smtp.stop()


async def test_webhook_that_refuses_for_good_fails_at_once_and_daily_digest_gathers_alerts(
    stack: Stack, smtp: SmtpServer,
) -> None:
    receiver = await WebhookReceiver(statuses=[410]).start()
    try:
        owner_id, _ = await stack.user("dora@example.com", "marketing")
        settings = for_notifier(stack.settings, smtp.port)
        await fetch(settings, "INSERT INTO alert_preferences (user_id, webhook_url, mode) "
                              "VALUES ($1, $2, 'digest')", owner_id, receiver.url)
        await start_notifier(stack, settings)
        await publish_scores(settings, [
            score_state(asset, rev, owner="dora@example.com", **figures)
            for asset in ("deck-a", "deck-b")
            for rev, figures in ((1, HEALTHY), (2, DROPPED))])
        pending = await eventually(
            lambda: fetch(settings, "SELECT channel, kind, state, due_at > now() AS later, "
                                    "(SELECT count(*) FROM alert_delivery_items i "
                                    " WHERE i.delivery_id = d.id) AS alerts "
                                    "FROM alert_deliveries d ORDER BY channel"),
            lambda rows: len(rows) == 2 and all(r["alerts"] == 2 for r in rows))
        assert all(r["kind"] == "digest" and r["later"] for r in pending)
        # The digest hour comes: one email and one webhook call, each with both alerts.
        await fetch(settings, "UPDATE alert_deliveries SET due_at = now()")
        await eventually(lambda: asyncio.sleep(0, smtp.messages), lambda m: len(m) == 1)
        done = await eventually(lambda: deliveries(settings),
                                lambda d: all(x["state"] in ("sent", "failed") for x in d))
    finally:
        await receiver.stop()
    assert smtp.messages[0]["Subject"] == "Glassboard daily digest: 2 alerts"
    text = smtp.messages[0].get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "/assets/deck-a" in text and "/assets/deck-b" in text
    by_channel = {d["channel"]: d for d in done}
    assert by_channel["email"]["state"] == "sent"
    assert by_channel["webhook"] == {"channel": "webhook", "state": "failed", "attempts": 1,
                                     "last_error": "webhook http://127.0.0.1/…: HTTP 410"}
    assert len(receiver.received) == 1
