"""The notifier on the real broker and PostgreSQL, with a real SMTP server (aiosmtpd) and a
real HTTP webhook receiver: score states go straight onto ``asset-scores``."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import pytest
from prometheus_client import REGISTRY

from notifier_support import (
    SmtpServer,
    WebhookReceiver,
    fetch,
    fetchval,
    for_notifier,
    publish_scores,
    score_state,
    start_notifier,
)
from services.notifier.config import NotifierConfig, NotifierConfigError
from shared.embedded import free_port
from shared.settings import Settings
from shared.webhooks import verify
from support import Stack, eventually


async def deliveries(settings: Settings) -> list[dict[str, object]]:
    return await fetch(settings, "SELECT channel, state, attempts, last_error FROM "
                                 "alert_deliveries ORDER BY id")


# A fall of 15 points whose views fell for real: 40 against 100 in the period before.
HEALTHY = {"score": 70, "previous_score": 70, "views": 100, "previous_views": 100}
DROPPED = {"score": 55, "previous_score": 70, "views": 40, "previous_views": 100}


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
    assert verify(body, headers["x-glassboard-signature"], "whsec-test")
    assert headers["x-glassboard-timestamp"].isdigit()
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


@pytest.mark.parametrize(("overrides", "message"), [
    ({"smtp_host": "smtp.example.com", "smtp_tls": True, "smtp_starttls": True},
     "SMTP_TLS .* and SMTP_STARTTLS .* exclude each other"),
    ({"smtp_host": "smtp.example.com", "smtp_username": "mailer"},
     "SMTP_USERNAME is set but SMTP_PASSWORD is empty"),
    ({"smtp_host": "smtp://smtp.example.com"}, "SMTP_HOST must be a host name"),
    ({"smtp_host": "smtp.example.com", "smtp_from": "not-an-address"}, "SMTP_FROM must be"),
    ({"env": "production", "signing_secret": "x", "webhook_signing_secret": "y"},
     "SMTP_HOST is not set"),
    ({"env": "production", "signing_secret": "x", "smtp_host": "smtp.example.com",
      "smtp_from": "a@example.com"}, "WEBHOOK_SIGNING_SECRET must be set in production"),
    ({"alert_window": "14d"}, "ALERT_WINDOW must be one of 7d, 30d, 90d, 120d"),
])
def test_bad_configuration_stops_the_notifier_with_a_clear_message(
    overrides: dict[str, object], message: str,
) -> None:
    with pytest.raises(NotifierConfigError, match=message):
        NotifierConfig.from_settings(Settings(**overrides))  # type: ignore[arg-type]


def test_glassboard_notifier_refuses_to_start_on_bad_smtp_settings_without_a_traceback() -> None:
    env = {**os.environ, "SMTP_HOST": "smtp.example.com", "SMTP_USERNAME": "mailer",
           "SMTP_PASSWORD": "hunter2-secret", "SMTP_TLS": "true", "SMTP_STARTTLS": "true"}
    done = subprocess.run([sys.executable, "-m", "services.cli", "notifier"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "the notifier cannot start: SMTP configuration is not usable" in done.stderr
    assert "Traceback" not in done.stderr and "hunter2" not in done.stderr + done.stdout
