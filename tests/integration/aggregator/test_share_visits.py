"""Share-link opens on the real broker and PostgreSQL: each open is one visit however often
it is delivered, forwards are numbered, dwell attaches to its visit, and each visit's state
goes out on ``link-visits``. Envelopes go straight onto ``events``, as ingest sends them."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import asyncpg

from harness.db import event_rows, fetch, fetchval, views
from harness.events import NOW, publish
from harness.stack import Stack, consume_all, eventually
from shared.events import Device, DeviceClass, EventEnvelope, Source
from shared.share_links import (
    LinkVisitUpdate,
    browser_key,
    gate_email_hash,
    new_link_id,
    recipient_viewer_id,
)


async def _link(stack: Stack, asset: str, creator: int) -> str:
    link_id = new_link_id()
    conn = await asyncpg.connect(stack.settings.database_url)
    try:
        await conn.execute(
            "INSERT INTO share_links (id, asset_id, creator_id, recipient_email, created_at) "
            "VALUES ($1, $2, $3, 'pat@acme.com', $4)", link_id, asset, creator,
            NOW - timedelta(hours=1))
    finally:
        await conn.close()
    return link_id


def _open(link_id: str, asset: str, cookie: str, minutes_ago: float,
          gate_email: str | None = None) -> EventEnvelope:
    key = browser_key(link_id, cookie)
    return EventEnvelope(
        type="view", asset_id=asset, viewer_id=recipient_viewer_id(link_id, key),
        occurred_at=NOW - timedelta(minutes=minutes_ago), source=Source.SHARE, link_id=link_id,
        browser_key=key, gate_email_hash=gate_email_hash(link_id, gate_email) if gate_email
        else None, device=Device(device_class=DeviceClass.DESKTOP, os="Mac", browser="Chrome"))


def _dwell(view: EventEnvelope, engaged_ms: int, page: int | None = None) -> EventEnvelope:
    return EventEnvelope(type="dwell", asset_id=view.asset_id, viewer_id=view.viewer_id,
                         view_id=view.event_id, occurred_at=view.occurred_at + timedelta(seconds=5),
                         engaged_ms=engaged_ms, wall_ms=engaged_ms, page=page,
                         device=view.device, source=Source.BEACON)


async def _visits(stack: Stack, link_id: str) -> list[dict[str, Any]]:
    return await fetch(stack.settings, "SELECT * FROM link_visits WHERE link_id = $1 "
                                       "ORDER BY opened_at", link_id)


async def _updates(stack: Stack, expect: int) -> list[tuple[bytes, LinkVisitUpdate]]:
    records = await consume_all(stack.settings.kafka_bootstrap_servers,
                                stack.settings.topics.link_visits.name, expect=expect, timeout=5)
    return [(r.key, LinkVisitUpdate.model_validate_json(r.value)) for r in records]


def _latest(updates: list[tuple[bytes, LinkVisitUpdate]]) -> dict[str, LinkVisitUpdate]:
    latest: dict[str, LinkVisitUpdate] = {}
    for _, u in updates:
        if u.event_id not in latest or u.updated_at >= latest[u.event_id].updated_at:
            latest[u.event_id] = u
    return latest


async def _drained(stack: Stack, asset: str) -> None:
    """Wait until everything published before now on ``asset``'s partition was applied."""
    sentinel = EventEnvelope(type="view", asset_id=asset, viewer_id="sentinel",
                             occurred_at=NOW, source=Source.BEACON)
    await publish(stack.settings, [sentinel])
    await eventually(lambda: fetchval(stack.settings, "SELECT count(*) FROM events "
                                      "WHERE event_id = $1", sentinel.event_id),
                     lambda n: n == 1)


async def test_each_open_is_one_visit_across_redelivery_with_numbered_forwards(
    stack: Stack,
) -> None:
    await stack.add_asset("case-study")
    rep, _ = await stack.user("rep@example.com", "sales")
    link = await _link(stack, "case-study", rep)
    await stack.aggregator()
    first = _open(link, "case-study", "alice", 50)
    opens = [first, _open(link, "case-study", "bob", 40), _open(link, "case-study", "alice", 30),
             _open(link, "case-study", "carol", 20), _open(link, "case-study", "bob", 10)]
    batch = [*opens, _dwell(first, 4000, 1), _dwell(first, 2000, 2), _dwell(opens[1], 700)]
    await publish(stack.settings, batch)
    await publish(stack.settings, batch)  # a producer retry: the same event_ids again
    await _drained(stack, "case-study")

    visits = await _visits(stack, link)
    assert [(v["forwarded"], v["forward_no"]) for v in visits] == [
        (False, None), (True, 1), (False, None), (True, 2), (True, 1)]
    assert [v["event_id"] for v in visits] == [o.event_id for o in opens]
    assert [v["engaged_ms"] for v in visits] == [6000, 700, 0, 0, 0]
    assert visits[0]["pages"] == [1, 2]
    # Share opens are views too, counted once (the sentinel is the sixth).
    assert await views(stack.settings, "case-study") == 6
    assert await event_rows(stack.settings) == len(batch) + 1

    # Every visit's state is on link-visits, keyed by link; a redelivered batch re-sends the
    # same states (as asset-scores does), never a different one.
    updates = await _updates(stack, expect=2 * len(opens))
    assert {key for key, _ in updates} == {link.encode()}
    latest = _latest(updates)
    assert set(latest) == {str(o.event_id) for o in opens}
    mine = latest[str(first.event_id)]
    assert mine.first_open and not mine.forwarded and mine.creator_id == rep
    assert mine.engaged_ms == 6000 and mine.pages == [1, 2] and mine.device_class == "desktop"
    again = latest[str(opens[2].event_id)]
    assert not again.first_open and again.previous_open_at == first.occurred_at
    assert [latest[str(o.event_id)].forward_no for o in opens] == [None, 1, None, 2, 1]


async def test_later_dwell_grows_its_visit_and_publishes_the_new_state(stack: Stack) -> None:
    await stack.add_asset("whitepaper")
    rep, _ = await stack.user("rep@example.com", "sales")
    link = await _link(stack, "whitepaper", rep)
    await stack.aggregator()
    opened = _open(link, "whitepaper", "alice", 5)
    await publish(stack.settings, [opened])
    await eventually(lambda: _updates(stack, expect=1), lambda us: len(us) == 1)
    slices = [_dwell(opened, 3000), _dwell(opened, 5000)]
    await publish(stack.settings, slices)
    await publish(stack.settings, slices)  # redelivered dwell adds nothing
    await _drained(stack, "whitepaper")

    [visit] = await _visits(stack, link)
    assert visit["engaged_ms"] == 8000
    updates = await eventually(lambda: _updates(stack, expect=2),
                               lambda us: any(u.engaged_ms == 8000 for _, u in us))
    assert updates[0][1].engaged_ms == 0 and updates[0][1].first_open
    assert {u.engaged_ms for _, u in updates} <= {0, 3000, 8000}
    # The same slices count as the asset's engaged time, once, through the usual path.
    assert await fetchval(stack.settings, "SELECT engaged_ms FROM asset_totals "
                                          "WHERE asset_id = 'whitepaper'") == 8000


async def test_a_different_gate_email_is_a_forward(stack: Stack) -> None:
    await stack.add_asset("pricing")
    rep, _ = await stack.user("rep@example.com", "sales")
    link = await _link(stack, "pricing", rep)
    await stack.aggregator()
    opens = [_open(link, "pricing", "alice", 30, "pat@acme.com"),
             _open(link, "pricing", "alice", 20, "sam@acme.com"),
             _open(link, "pricing", "alice", 10, " PAT@acme.com")]
    await publish(stack.settings, opens[:1])
    await eventually(lambda: _visits(stack, link), lambda vs: len(vs) == 1)
    await publish(stack.settings, opens[1:])
    visits = await eventually(lambda: _visits(stack, link), lambda vs: len(vs) == 3)
    assert [(v["forwarded"], v["forward_no"]) for v in visits] == [
        (False, None), (True, 1), (False, None)]
    assert visits[0]["gate_email_hash"] == gate_email_hash(link, "pat@acme.com")


async def test_opens_of_unknown_links_or_deleted_assets_are_rejected_and_the_rest_count(
    stack: Stack,
) -> None:
    await stack.add_asset("datasheet")
    await stack.add_asset("retired")
    rep, _ = await stack.user("rep@example.com", "sales")
    good = await _link(stack, "datasheet", rep)
    gone = await _link(stack, "retired", rep)
    await fetch(stack.settings, "UPDATE assets SET deleted_at = now() WHERE id = 'retired'")
    await stack.aggregator()
    unknown = _open(new_link_id(), "datasheet", "mallory", 30)
    wrong_asset = _open(gone, "datasheet", "mallory", 25)
    deleted = _open(gone, "retired", "alice", 20)
    counted = _open(good, "datasheet", "alice", 10)
    await publish(stack.settings, [unknown, wrong_asset, deleted, counted])

    await eventually(lambda: _visits(stack, good), lambda vs: len(vs) == 1)
    rejected = await eventually(
        lambda: fetch(stack.settings, "SELECT event_id, reason, detail FROM rejected_events "
                                      "ORDER BY detail"),
        lambda rows: len(rows) == 3)
    assert {(r["event_id"], r["reason"], r["detail"]) for r in rejected} == {
        (unknown.event_id, "invalid", "no share link with this id"),
        (wrong_asset.event_id, "invalid", "the share link is for another asset"),
        (deleted.event_id, "unknown_asset", "the share link's asset was deleted"),
    }
    assert await fetchval(stack.settings, "SELECT count(*) FROM link_visits") == 1
    assert await views(stack.settings, "datasheet") == 1  # a refused open is no view either
    [(_, update)] = await _updates(stack, expect=1)
    assert update.event_id == str(counted.event_id)
    assert json.loads(update.model_dump_json())["link_id"] == good


async def test_a_reload_within_the_double_click_window_is_one_view_but_keeps_its_visit(
    stack: Stack,
) -> None:
    await stack.add_asset("battlecard")
    rep, _ = await stack.user("rep@example.com", "sales")
    link = await _link(stack, "battlecard", rep)
    await stack.aggregator()
    opened = _open(link, "battlecard", "alice", 2)
    reload = _open(link, "battlecard", "alice", 1.8)  # 12 s later: a double-click
    await publish(stack.settings, [opened, reload, _dwell(reload, 9000)])
    visits = await eventually(lambda: _visits(stack, link),
                              lambda vs: len(vs) == 2 and vs[1]["engaged_ms"] == 9000)
    # The reload's page sends its dwell with the reload's event_id: the visit keeps it.
    assert [v["forwarded"] for v in visits] == [False, False]
    assert await views(stack.settings, "battlecard") == 1
