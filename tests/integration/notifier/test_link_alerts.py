"""Hot-engagement alerts to reps on the real broker and PostgreSQL, with a real SMTP server:
LinkVisitUpdate messages on ``link-visits`` (as the aggregator publishes them) alert the
link's creator by email, webhook and in-app, each rule once per link, across redelivery and
restarts; quiet hours hold the delivery until they end."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from devtools.settings import StackSettings
from harness.db import fetch, fetchval
from harness.events import publish
from harness.notifier import (
    COMMAND,
    SmtpServer,
    WebhookReceiver,
    delivery_states,
    for_notifier,
    killed_before_delivery_then_restarted,
    notifier_env,
    rewind_kafka_offsets,
    start_notifier,
)
from harness.stack import Stack, consume_all, eventually
from shared.events import Device, DeviceClass, EventEnvelope, Source
from shared.kafka import make_broker, publish_keyed
from shared.share_links import LinkVisitUpdate, browser_key, new_link_id, recipient_viewer_id

REP = "rep@example.com"


async def make_link(stack: Stack, settings: StackSettings, rep_id: int, *,
                    asset_id: str = "case-study") -> str:
    """A share link of ``rep_id`` to Ann at Acme, as the ratings API stores it."""
    if not await fetchval(settings, "SELECT count(*) FROM assets WHERE id = $1", asset_id):
        await stack.add_asset(asset_id, title="Case Study")
    link_id = new_link_id()
    await fetch(settings, "INSERT INTO share_links (id, asset_id, creator_id, recipient_email, "
                          "recipient_name, company, created_at) VALUES ($1, $2, $3, "
                          "'ann@acme.example', 'Ann Lee', 'Acme', now() - interval '1 hour')",
                link_id, asset_id, rep_id)
    return link_id


def visit(link_id: str, **overrides: Any) -> LinkVisitUpdate:
    now = datetime.now(timezone.utc)
    values: dict[str, Any] = dict(
        link_id=link_id, event_id=str(uuid.uuid4()), asset_id="case-study", creator_id=0,
        opened_at=now, first_open=False, forwarded=False, device_class="mobile",
        browser="Safari", os="iOS", updated_at=now)
    values.update(overrides)
    return LinkVisitUpdate(**values)


async def publish_visits(settings: StackSettings, updates: list[LinkVisitUpdate]) -> None:
    broker = make_broker(settings.kafka_bootstrap_servers)
    await broker.start()
    try:
        for u in updates:  # one at a time, keyed by link, as the aggregator publishes them
            await publish_keyed(broker, settings.topics.link_visits.name,
                                [(u.link_id, u.model_dump_json().encode())])
    finally:
        await broker.stop()


async def consumed(settings: StackSettings) -> int:
    """How many link-visits records the notifier has applied (its position in PostgreSQL)."""
    return int(await fetchval(settings, "SELECT coalesce(sum(next_offset), 0) FROM "
                                        "notifier_offsets WHERE topic = $1",
                              settings.topics.link_visits.name))


async def warmed_up(settings: StackSettings) -> None:
    """The notifier has joined its group and reads link-visits: an update of a link nobody
    made is applied (and alerts no one)."""
    await publish_visits(settings, [visit(new_link_id(), first_open=True)])
    await eventually(lambda: consumed(settings), lambda n: n >= 1, timeout=30)


async def test_the_first_open_reaches_the_rep_within_5_s_once_across_redelivery_and_restart(
    stack: Stack, smtp: SmtpServer,
) -> None:
    settings = for_notifier(stack.settings, smtp.port)
    stack.settings = settings
    rep_id, token = await stack.user(REP, "sales", "Rita Rep")
    link_id = await make_link(stack, settings, rep_id)
    notifier = await start_notifier(stack, settings)
    await warmed_up(settings)
    assert smtp.messages == []  # a link the ratings service does not hold alerts no one

    opened = visit(link_id, first_open=True)
    started = time.monotonic()
    await publish_visits(settings, [opened])
    await eventually(lambda: asyncio.sleep(0, smtp.messages), lambda m: len(m) == 1,
                     timeout=5, interval=0.05)
    assert time.monotonic() - started < 5
    [mail] = smtp.messages
    assert mail["To"] == REP
    assert mail["Subject"] == "Glassboard: Ann Lee (Acme) opened “Case Study”"
    text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "opened your link to “Case Study” for the first time, on a mobile" in text
    assert f"See the link's visits: {settings.ratings_base_url}/links" in text

    # The in-app alert: a row the rep's inbox lists.
    await stack.ratings()
    async with stack.client_for(token) as rep:
        inbox = (await rep.get("/v1/alerts")).json()["alerts"]
    assert [(a["rule"], a["rule_label"], a["title"], a["owner_email"]) for a in inbox] == [
        ("link_first_open", "Link opened", "Case Study", REP)]
    assert inbox[0]["details"]["link_id"] == link_id
    assert [d["state"] for d in inbox[0]["deliveries"]] == ["sent"]

    # Redelivered, and more engaged time (below a long read): nothing new.
    await publish_visits(settings, [opened, opened.model_copy(update={"engaged_ms": 30_000})])
    await eventually(lambda: consumed(settings), lambda n: n == 4)
    # Restarted, with Kafka's offsets rewound to 0: PostgreSQL's position wins.
    await stack.stop(notifier)
    await rewind_kafka_offsets(settings)
    await start_notifier(stack, settings)
    await publish_visits(settings, [opened])
    await eventually(lambda: consumed(settings), lambda n: n == 5, timeout=30)
    await asyncio.sleep(1.0)
    assert len(smtp.messages) == 1
    assert await fetch(settings, "SELECT link_id, rule FROM link_alert_state") == [
        {"link_id": link_id, "rule": "link_first_open"}]
    assert await fetchval(settings, "SELECT count(*) FROM alerts") == 1
    assert await fetchval(settings, "SELECT count(*) FROM alert_deliveries") == 1


async def test_a_forward_and_a_long_read_alert_by_email_and_the_reps_webhook(
    stack: Stack, smtp: SmtpServer,
) -> None:
    settings = for_notifier(stack.settings, smtp.port)
    receiver = await WebhookReceiver().start()
    try:
        rep_id, _ = await stack.user(REP, "sales")
        await fetch(settings, "INSERT INTO alert_preferences (user_id, webhook_url) "
                              "VALUES ($1, $2)", rep_id, receiver.url)
        await fetch(settings, "INSERT INTO share_alert_preferences (user_id, long_read_seconds) "
                              "VALUES ($1, 10)", rep_id)
        link_id = await make_link(stack, settings, rep_id)
        other_link = await make_link(stack, settings, rep_id)  # same asset: its own alerts
        await start_notifier(stack, settings)
        forward = visit(link_id, forwarded=True, forward_no=1)
        await publish_visits(settings, [
            visit(link_id, first_open=True), forward,
            forward.model_copy(update={"engaged_ms": 12_000}),
            visit(link_id, forwarded=True, forward_no=2),  # a second forward: no alert
            visit(other_link, first_open=True)])
        await eventually(lambda: asyncio.sleep(0, smtp.messages), lambda m: len(m) == 4)
        await eventually(lambda: asyncio.sleep(0, receiver.received), lambda r: len(r) == 4)
        await asyncio.sleep(1.0)
        subjects = sorted(m["Subject"] for m in smtp.messages)
        assert subjects == ["Glassboard: Ann Lee (Acme) opened “Case Study”",
                            "Glassboard: Ann Lee (Acme) opened “Case Study”",
                            "Glassboard: Forwarded reader 1 is reading “Case Study”",
                            "Glassboard: “Case Study” was forwarded"]
        assert len(receiver.received) == 4
        # Each link's partition is read in order; the two links' partitions in any order.
        rows = await fetch(settings, "SELECT link_id, rule FROM alerts ORDER BY id")
        assert [r["rule"] for r in rows if r["link_id"] == link_id] == [
            "link_first_open", "link_forward", "link_long_read"]
        assert [r["rule"] for r in rows if r["link_id"] == other_link] == ["link_first_open"]
        assert len(rows) == 4
        states = await fetch(settings, "SELECT channel, state FROM alert_deliveries")
        assert sorted((s["channel"], s["state"]) for s in states) == [
            ("email", "sent")] * 4 + [("webhook", "sent")] * 4
    finally:
        await receiver.stop()


async def test_bad_records_are_dead_lettered_and_a_forged_creator_routes_nothing(
    stack: Stack, smtp: SmtpServer,
) -> None:
    """The rep is the link's creator in share_links, whatever the message says; records
    that are no LinkVisitUpdate go to the dead-letter topic and the partition moves on."""
    settings = for_notifier(stack.settings, smtp.port)
    rep_id, _ = await stack.user(REP, "sales")
    forger_id, _ = await stack.user("forger@evil.example", "sales")
    link_id = await make_link(stack, settings, rep_id)
    await start_notifier(stack, settings)
    good = visit(link_id, first_open=True, creator_id=forger_id)
    broker = make_broker(settings.kafka_bootstrap_servers)
    await broker.start()
    try:
        topic = settings.topics.link_visits.name
        await publish_keyed(broker, topic, [
            (link_id, b"{"), (link_id, b"null"),
            (link_id, good.model_dump_json().replace(link_id, "short").encode())])
        await publish_keyed(broker, topic, [(link_id, good.model_dump_json().encode())])
    finally:
        await broker.stop()
    await eventually(lambda: asyncio.sleep(0, smtp.messages), lambda m: len(m) == 1)
    assert smtp.messages[0]["To"] == REP
    assert await fetchval(settings, "SELECT owner_email FROM alerts") == REP
    dead = await consume_all(settings.kafka_bootstrap_servers, settings.topics.events_dlq.name,
                             expect=4, timeout=2)
    assert len(dead) == 3
    assert {dict(r.headers)["x-dlq-reason"].decode() for r in dead} == {
        "not a link-visits update"}
    await eventually(lambda: consumed(settings), lambda n: n == 4)


async def test_quiet_hours_hold_the_delivery_until_they_end(
    stack: Stack, smtp: SmtpServer,
) -> None:
    settings = for_notifier(stack.settings, smtp.port)
    rep_id, _ = await stack.user(REP, "sales")
    hour = datetime.now(timezone.utc).hour
    if datetime.now(timezone.utc).minute == 59:  # not across the hour's end
        await asyncio.sleep(61)
        hour = datetime.now(timezone.utc).hour
    await fetch(settings, "INSERT INTO share_alert_preferences (user_id, quiet_from_hour, "
                          "quiet_to_hour) VALUES ($1, $2, $3)", rep_id, hour, (hour + 1) % 24)
    link_id = await make_link(stack, settings, rep_id)
    await start_notifier(stack, settings)
    await publish_visits(settings, [visit(link_id, first_open=True)])
    [held] = await eventually(
        lambda: fetch(settings, "SELECT state, due_at FROM alert_deliveries"),
        lambda rows: len(rows) == 1)
    end = (datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
           + timedelta(hours=1))
    assert held["state"] == "pending" and held["due_at"] == end
    # The in-app alert is there at once; the email waits.
    assert await fetchval(settings, "SELECT rule FROM alerts") == "link_first_open"
    await asyncio.sleep(1.5)
    assert smtp.messages == []
    # The quiet hours end (their end, brought forward): the email goes out, once.
    await fetch(settings, "UPDATE alert_deliveries SET due_at = now()")
    await eventually(lambda: asyncio.sleep(0, smtp.messages), lambda m: len(m) == 1)
    await asyncio.sleep(1.0)
    assert len(smtp.messages) == 1


async def test_a_notifier_killed_before_sending_sends_the_link_alert_once_after_restart(
    stack: Stack, smtp: SmtpServer,
) -> None:
    """The notifier as a real process, killed with SIGKILL between the decision and the
    delivery, then restarted twice (the second time under rewound Kafka offsets)."""
    settings = stack.settings
    rep_id, _ = await stack.user(REP, "sales")
    link_id = await make_link(stack, settings, rep_id)
    opened = visit(link_id, first_open=True)
    env = notifier_env(settings, smtp.port)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        await killed_before_delivery_then_restarted(
            settings, env, smtp, lambda: publish_visits(settings, [opened]), processes)

        await rewind_kafka_offsets(settings)
        processes.append(subprocess.Popen(COMMAND, env=env))
        await publish_visits(settings, [opened])
        await eventually(lambda: consumed(settings), lambda n: n == 2, timeout=60)
        await asyncio.sleep(1.5)
        processes[-1].send_signal(signal.SIGTERM)
        assert processes[-1].wait(15) == 0
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    assert len(smtp.messages) == 1 and smtp.messages[0]["To"] == REP
    assert await fetchval(settings, "SELECT count(*) FROM alerts") == 1
    assert await delivery_states(settings) == [("sent", 1)]


async def test_an_open_through_the_aggregator_reaches_the_rep_within_5_s(
    stack: Stack, smtp: SmtpServer,
) -> None:
    """The whole way from the events topic: the aggregator counts the open and publishes
    its LinkVisitUpdate, the notifier emails the rep; the reader's dwell makes a long read."""
    settings = for_notifier(stack.settings, smtp.port)
    stack.settings = settings
    rep_id, _ = await stack.user(REP, "sales")
    link_id = await make_link(stack, settings, rep_id)
    await stack.aggregator()
    await start_notifier(stack, settings)
    await warmed_up(settings)
    key = browser_key(link_id, "prospect-browser")
    opened = EventEnvelope(
        type="view", asset_id="case-study", viewer_id=recipient_viewer_id(link_id, key),
        occurred_at=datetime.now(timezone.utc), source=Source.SHARE, link_id=link_id,
        browser_key=key, device=Device(device_class=DeviceClass.DESKTOP, os="Mac",
                                       browser="Chrome"))
    started = time.monotonic()
    await publish(settings, [opened])
    await eventually(lambda: asyncio.sleep(0, smtp.messages), lambda m: len(m) == 1,
                     timeout=5, interval=0.05)
    assert time.monotonic() - started < 5
    assert smtp.messages[0]["Subject"] == "Glassboard: Ann Lee (Acme) opened “Case Study”"
    dwell = EventEnvelope(
        type="dwell", asset_id="case-study", viewer_id=opened.viewer_id,
        view_id=opened.event_id, occurred_at=opened.occurred_at + timedelta(seconds=5),
        engaged_ms=125_000, wall_ms=125_000, device=opened.device, source=Source.BEACON)
    await publish(settings, [dwell])
    await eventually(lambda: asyncio.sleep(0, smtp.messages), lambda m: len(m) == 2)
    assert smtp.messages[1]["Subject"] == "Glassboard: Ann Lee (Acme) is reading “Case Study”"
