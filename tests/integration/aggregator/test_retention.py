"""Retention on the real broker and PostgreSQL: raw events past the horizon and old refused
hits are deleted in bounded batches, the counts stay exactly as they were, and an event
redelivered inside the horizon still counts once."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import asyncpg

from devtools.settings import StackSettings
from harness.db import fetch, fetchval, views
from harness.events import make_events, publish
from harness.stack import Stack, eventually
from services.aggregator.retention import RetentionJob, RetentionPolicy
from shared.events import Device, DeviceClass, EventEnvelope, Source

HORIZON_DAYS = 15  # the least the settings accept with Kafka's default 7-day retention
COUNT_TABLES = ("usage_daily", "viewer_days", "view_dwell", "asset_totals", "asset_viewers",
                "rating_daily")


def _aged(asset: str, n: int, days: int, prefix: str) -> list[EventEnvelope]:
    """n views received ``days`` ago, as ingest would have stamped them then."""
    at = datetime.now(timezone.utc) - timedelta(days=days)
    return [EventEnvelope(type="view", asset_id=asset, viewer_id=f"{prefix}{i}", occurred_at=at,
                          received_at=at, device=Device(device_class=DeviceClass.DESKTOP),
                          source=Source.BEACON) for i in range(n)]


async def _counts(settings: StackSettings) -> dict[str, list[str]]:
    """Every row of every count table, order-independent."""
    return {t: sorted(repr(sorted(r.items())) for r in await fetch(settings, f"SELECT * FROM {t}"))
            for t in COUNT_TABLES}


async def test_prunes_old_rows_in_batches_keeps_counts_and_recent_ids(stack: Stack) -> None:
    settings = stack.settings
    await stack.add_asset("datasheet")
    await stack.ratings()
    await stack.aggregator()
    old = _aged("datasheet", 7, days=HORIZON_DAYS + 5, prefix="old")
    recent = make_events("datasheet", 4)  # 4 views and 1 dwell, received now
    inside = _aged("datasheet", 2, days=HORIZON_DAYS - 1, prefix="in")  # just inside
    refused_old = _aged("no-such-asset", 5, days=HORIZON_DAYS + 5, prefix="r")
    refused_new = _aged("no-such-asset", 2, days=0, prefix="n")
    await publish(settings, [*old, *recent, *inside, *refused_old, *refused_new])
    await eventually(lambda: views(settings, "datasheet"), lambda n: n == 13)
    await eventually(lambda: fetchval(settings, "SELECT count(*) FROM rejected_events"),
                     lambda n: n == 7)
    before = await _counts(settings)

    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2)
    try:
        job = RetentionJob(pool, RetentionPolicy(HORIZON_DAYS, HORIZON_DAYS, batch_rows=3))
        pruned = await job.prune()
        # 7 old events in batches of 3 (3, 3, 1), 5 refused hits (3, 2), and one batch
        # that finds no held link hit.
        assert (pruned.events, pruned.rejected, pruned.held_link_hits, pruned.batches) == (
            7, 5, 0, 6)
        assert (await job.prune()).events == 0  # nothing left to take
    finally:
        await pool.close()

    kept = {r["event_id"] for r in await fetch(settings, "SELECT event_id FROM events")}
    assert kept == {e.event_id for e in [*recent, *inside]}
    rejected = {r["event_id"] for r in await fetch(settings, "SELECT event_id FROM rejected_events")}
    assert rejected == {e.event_id for e in refused_new}
    assert await _counts(settings) == before  # every count exactly as it was

    # Redelivered inside the horizon (a producer retry, an offset reset): still once each.
    # A fresh view published after them on the same partition shows they were consumed.
    marker = make_events("datasheet", 1, viewer_prefix="marker")[0]
    await publish(settings, [*recent, *inside, marker])
    await eventually(lambda: views(settings, "datasheet"), lambda n: n >= 14)
    await eventually(lambda: fetchval(settings, "SELECT count(*) FROM events"),
                     lambda n: n == len(kept) + 1)
    assert await views(settings, "datasheet") == 14
    assert (await stack.usage("datasheet", "7d"))["views"] == 4 + 1


async def test_the_running_aggregator_starts_the_job_with_its_settings(stack: Stack) -> None:
    aggregator = await stack.aggregator()
    assert aggregator.retention is not None
    assert aggregator.retention.policy.events_days == stack.settings.events_retention_days == 400
    assert aggregator.retention.policy.rejected_days == stack.settings.rejected_retention_days == 120


async def test_an_erased_recipient_s_gate_email_leaves_the_visits(stack: Stack) -> None:
    """Erasing a recipient (ratings clears the link's recipient) also clears the hashed
    gate email of their visits, which someone knowing the address could still match."""
    settings = stack.settings
    await stack.add_asset("deck")
    creator, _ = await stack.user("rep@example.com", "sales")
    conn = await asyncpg.connect(settings.database_url)
    try:
        for link, erased in (("E" * 22, True), ("K" * 22, False)):
            await conn.execute(
                "INSERT INTO share_links (id, asset_id, creator_id, recipient_email, erased_at)"
                " VALUES ($1, 'deck', $2, $3, CASE WHEN $4 THEN now() END)",
                link, creator, None if erased else "kim@example.com", erased)
            await conn.execute(
                "INSERT INTO link_visits (event_id, link_id, asset_id, opened_at, browser_key,"
                " device_class, forwarded, gate_email_hash) VALUES (gen_random_uuid(), $1,"
                " 'deck', now(), $2, 'desktop', false, $2)", link, "a" * 32)
    finally:
        await conn.close()
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2)
    try:
        pruned = await RetentionJob(pool, RetentionPolicy(HORIZON_DAYS, HORIZON_DAYS)).prune()
    finally:
        await pool.close()
    assert pruned.erased_gate_emails == 1
    rows = await fetch(settings, "SELECT link_id, gate_email_hash FROM link_visits "
                                 "ORDER BY link_id")
    assert rows == [{"link_id": "E" * 22, "gate_email_hash": None},
                    {"link_id": "K" * 22, "gate_email_hash": "a" * 32}]
