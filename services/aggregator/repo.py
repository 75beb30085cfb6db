"""The aggregator's SQL on the usage tables it owns, and the one-transaction apply of a batch.

Reads of the catalog, which the ratings service owns, go through ``reads/ratings.py``.

Every statement is set-based (``unnest`` of arrays), so a batch of thousands of events
costs a dozen round trips. Rows are sorted by key before each upsert so that two
aggregators briefly sharing a partition during a rebalance lock rows in the same order.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple
from uuid import UUID

import asyncpg

from shared.events import EventEnvelope, RejectedEvent, RejectReason
from shared.scores import AssetScoreUpdate
from shared.share_links import LinkVisitUpdate

from .link_visits import is_share_open, link_refusal
from .reads.ratings import known_assets
from .score_state import ScoreContext, refresh_scores
from .share_store import apply_share_visits, links_of
from .usage import (
    BatchUsage,
    GuardKey,
    RatingKey,
    double_clicks,
    first_of_each_id,
    guard_key,
    held_back,
    rating_deltas,
    split_countable,
    summarize,
)
from .video_store import apply_video_plays

__all__ = [
    "Applied",
    "apply_events",
    "due_link_hits",
    "engaged_clients",
    "link_hits_around",
    "mark_link_hits",
    "rejected_event",
    "store_rejected",
]

INSERT_NEW_EVENTS = """
INSERT INTO events (event_id, type, asset_id, viewer_key, occurred_at, received_at,
                    device_class, os, browser, page, referrer_host, source, view_id,
                    engaged_ms, wall_ms)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[],
                     $6::timestamptz[], $7::text[], $8::text[], $9::text[], $10::int[],
                     $11::text[], $12::text[], $13::uuid[], $14::int[], $15::int[])
ON CONFLICT (event_id) DO NOTHING
RETURNING event_id
"""

SELECT_GUARDS = """
SELECT g.asset_id, g.viewer_key, g.type, g.last_counted_at
FROM hit_guard g
JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(asset_id, viewer_key, type)
  USING (asset_id, viewer_key, type)
"""

UPSERT_GUARDS = """
INSERT INTO hit_guard (asset_id, viewer_key, type, last_counted_at)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[])
ON CONFLICT (asset_id, viewer_key, type) DO UPDATE
SET last_counted_at = GREATEST(hit_guard.last_counted_at, excluded.last_counted_at)
"""

MARK_DOUBLE_CLICKS = "UPDATE events SET suppressed = 'double_click' WHERE event_id = any($1::uuid[])"

INSERT_VIEWER_DAYS = """
INSERT INTO viewer_days (asset_id, day, device_class, viewer_key)
SELECT * FROM unnest($1::text[], $2::date[], $3::text[], $4::text[])
ON CONFLICT DO NOTHING
RETURNING asset_id, day, device_class
"""

INSERT_ASSET_VIEWERS = """
INSERT INTO asset_viewers (asset_id, viewer_key)
SELECT * FROM unnest($1::text[], $2::text[])
ON CONFLICT DO NOTHING
RETURNING asset_id
"""

UPSERT_DAILY = """
INSERT INTO usage_daily (asset_id, day, device_class, views, unique_viewers, downloads,
                         engaged_ms, wall_ms)
SELECT * FROM unnest($1::text[], $2::date[], $3::text[], $4::bigint[], $5::bigint[],
                     $6::bigint[], $7::bigint[], $8::bigint[])
ON CONFLICT (asset_id, day, device_class) DO UPDATE SET
    views = usage_daily.views + excluded.views,
    unique_viewers = usage_daily.unique_viewers + excluded.unique_viewers,
    downloads = usage_daily.downloads + excluded.downloads,
    engaged_ms = usage_daily.engaged_ms + excluded.engaged_ms,
    wall_ms = usage_daily.wall_ms + excluded.wall_ms
"""

UPSERT_VIEW_DWELL = """
INSERT INTO view_dwell (view_id, asset_id, day, device_class, engaged_ms, wall_ms)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::date[], $4::text[], $5::bigint[], $6::bigint[])
ON CONFLICT (view_id) DO UPDATE SET
    engaged_ms = view_dwell.engaged_ms + excluded.engaged_ms,
    wall_ms = view_dwell.wall_ms + excluded.wall_ms
"""

UPSERT_TOTALS = """
INSERT INTO asset_totals (asset_id, views, unique_viewers, downloads, engaged_ms, wall_ms,
                          last_event_at, updated_at)
SELECT *, now() FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[],
                            $5::bigint[], $6::bigint[], $7::timestamptz[])
ON CONFLICT (asset_id) DO UPDATE SET
    views = asset_totals.views + excluded.views,
    unique_viewers = asset_totals.unique_viewers + excluded.unique_viewers,
    downloads = asset_totals.downloads + excluded.downloads,
    engaged_ms = asset_totals.engaged_ms + excluded.engaged_ms,
    wall_ms = asset_totals.wall_ms + excluded.wall_ms,
    last_event_at = GREATEST(asset_totals.last_event_at, excluded.last_event_at),
    updated_at = now()
"""

UPSERT_RATING_DAILY = """
INSERT INTO rating_daily (asset_id, day, stars, ratings)
SELECT * FROM unnest($1::text[], $2::date[], $3::smallint[], $4::bigint[])
ON CONFLICT (asset_id, day, stars) DO UPDATE SET
    ratings = rating_daily.ratings + excluded.ratings
"""

HOLD_LINK_HITS = """
INSERT INTO held_link_hits (event_id, client, asset_id, received_at, envelope)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[], $5::text[]::jsonb[])
ON CONFLICT (event_id) DO NOTHING
"""

SELECT_DUE_LINK_HITS = """
SELECT event_id, client, asset_id, received_at, envelope FROM held_link_hits
WHERE decision IS NULL AND held_at < now() - make_interval(secs => $1)
ORDER BY held_at LIMIT $2 FOR UPDATE SKIP LOCKED
"""

SELECT_LINK_HITS_AROUND = """
SELECT event_id, client, asset_id, received_at FROM held_link_hits
WHERE client = any($1::text[]) AND received_at BETWEEN $2 AND $3
"""

SELECT_ENGAGED_CLIENTS = """
SELECT DISTINCT viewer_key FROM events
WHERE viewer_key = any($1::text[]) AND type = 'dwell' AND received_at BETWEEN $2 AND $3
  AND coalesce(engaged_ms, 0) > 0
"""

MARK_LINK_HITS = """
UPDATE held_link_hits h SET decision = d.decision, decided_at = now()
FROM unnest($1::uuid[], $2::text[]) AS d(event_id, decision)
WHERE h.event_id = d.event_id
"""

INSERT_REJECTED = """
INSERT INTO rejected_events (event_id, reason, detail, asset_id, source, received_at, payload)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],
                     $6::timestamptz[], $7::text[]::jsonb[])
ON CONFLICT (event_id) DO NOTHING
"""


def _columns(rows: Sequence[Sequence[object]], width: int) -> list[list[object]]:
    """Rows to per-column lists, the shape ``unnest($1, $2, ...)`` takes."""
    return [[row[i] for row in rows] for i in range(width)] if rows else [[] for _ in range(width)]


async def store_rejected(conn: asyncpg.Connection, rejected: Sequence[RejectedEvent]) -> None:
    rows = sorted(
        (
            r.event_id,
            r.reason.value,
            r.detail,
            r.asset_id,
            r.source.value if r.source else None,
            r.received_at,
            json.dumps(r.payload, default=str),
        )
        for r in rejected
    )
    if rows:
        await conn.execute(INSERT_REJECTED, *_columns(rows, 7))


def _event_row(e: EventEnvelope) -> tuple[object, ...]:
    return (
        e.event_id, e.type, e.asset_id, e.viewer_id, e.occurred_at, e.received_at,
        e.device.device_class.value, e.device.os, e.device.browser, e.page, e.referrer_host,
        e.source.value, e.view_id, e.engaged_ms, e.wall_ms,
    )


class Applied(NamedTuple):
    """What one applied batch publishes after its commit."""

    #: For ``asset-scores``: every asset the batch names and every peer whose score moved.
    scores: list[AssetScoreUpdate]
    #: For ``link-visits``: every share-link visit the batch opened or named in dwell.
    visits: list[LinkVisitUpdate]


async def apply_events(
    conn: asyncpg.Connection,
    events: Sequence[EventEnvelope],
    invalid: Sequence[RejectedEvent],
    scoring: ScoreContext,
    *,
    hold_links: bool = False,
) -> Applied:
    """Apply one batch inside the caller's transaction; returns the states to publish.
    Replaying a batch changes no count. With ``hold_links``, tracked-link downloads are
    held for the burst rule instead (link_hold.py releases them here, without it).
    A share open of a link that is unknown, of another asset or of a deleted asset is
    rejected whole: it is not a view either."""
    events = first_of_each_id(events)
    batch_assets = sorted({e.asset_id for e in events})
    known = await known_assets(conn, batch_assets)
    countable, refused = split_countable(events, known)
    links = await links_of(conn, countable)
    link_refused = [(e, why) for e in countable
                    if is_share_open(e) and (why := link_refusal(e, links)) is not None]
    if link_refused:
        refused_ids = {e.event_id for e, _ in link_refused}
        countable = [e for e in countable if e.event_id not in refused_ids]
    await store_rejected(
        conn,
        [*invalid, *(_rejection(event, reason.value) for event, reason in refused),
         *(rejected_event(event, reason, detail) for event, (reason, detail) in link_refused)],
    )
    if hold_links:
        held = [e for e in countable if held_back(e)]
        if held:
            await _hold(conn, held)
            countable = [e for e in countable if not held_back(e)]

    new_ids: set[object] = set()
    if countable:
        rows = sorted((_event_row(e) for e in countable), key=lambda r: str(r[0]))
        new_ids = {r["event_id"] for r in await conn.fetch(INSERT_NEW_EVENTS, *_columns(rows, 15))}
    new_events = [e for e in countable if e.event_id in new_ids]

    suppressed = await _apply_double_click_rule(conn, new_events)
    usage = summarize(new_events, suppressed)
    await _write_usage(conn, usage)
    ratings = rating_deltas(new_events)
    await _write_rating_deltas(conn, ratings)
    await apply_video_plays(conn, new_events)

    visits = await apply_share_visits(conn, countable, new_events, links)

    touched = sorted({e.asset_id for e in countable})
    rerated = sorted({asset for asset, _, _ in ratings})
    return Applied(await refresh_scores(conn, touched, rerated, scoring), visits)


async def _hold(conn: asyncpg.Connection, held: Sequence[EventEnvelope]) -> None:
    rows = sorted(((e.event_id, e.viewer_id, e.asset_id, e.received_at, e.model_dump_json())
                   for e in held), key=lambda r: str(r[0]))
    await conn.execute(HOLD_LINK_HITS, *_columns(rows, 5))


async def due_link_hits(
    conn: asyncpg.Connection, hold_seconds: float, limit: int
) -> list[asyncpg.Record]:
    """Held link hits older than ``hold_seconds``, locked for this transaction."""
    return list(await conn.fetch(SELECT_DUE_LINK_HITS, hold_seconds, limit))


async def link_hits_around(
    conn: asyncpg.Connection, clients: Sequence[str], since: datetime, until: datetime
) -> list[asyncpg.Record]:
    """Every held link hit of ``clients`` received in [since, until], decided or not."""
    return list(await conn.fetch(SELECT_LINK_HITS_AROUND, list(clients), since, until))


async def engaged_clients(
    conn: asyncpg.Connection, clients: Sequence[str], since: datetime, until: datetime
) -> set[str]:
    """The clients among ``clients`` that sent engaged time in [since, until]."""
    rows = await conn.fetch(SELECT_ENGAGED_CLIENTS, list(clients), since, until)
    return {r["viewer_key"] for r in rows}


async def mark_link_hits(conn: asyncpg.Connection, decisions: dict[UUID, str]) -> None:
    rows = sorted(decisions.items(), key=lambda kv: str(kv[0]))
    await conn.execute(MARK_LINK_HITS, *_columns(rows, 2))


_REJECTION_DETAIL = {
    RejectReason.UNKNOWN_ASSET.value: "no asset with this id",
    RejectReason.INVALID.value: "rating replaces one without saying when it was given",
}


def _rejection(event: EventEnvelope, reason: str) -> RejectedEvent:
    detail = (event.device.browser or "bot") if reason == "bot" else _REJECTION_DETAIL[reason]
    return rejected_event(event, RejectReason(reason), detail)


def rejected_event(event: EventEnvelope, reason: RejectReason, detail: str) -> RejectedEvent:
    """The rejected_events record of an event that will never count, without its viewer."""
    return RejectedEvent(
        event_id=event.event_id,
        reason=reason,
        detail=detail,
        asset_id=event.asset_id,
        source=event.source,
        received_at=event.received_at,
        payload=event.model_dump(mode="json", exclude={"viewer_id"}, exclude_none=True),
    )


async def _apply_double_click_rule(
    conn: asyncpg.Connection, new_events: Sequence[EventEnvelope]
) -> frozenset[UUID]:
    keys = sorted({k for e in new_events if (k := guard_key(e)) is not None})
    if not keys:
        return frozenset()
    last_counted: dict[GuardKey, datetime] = {
        (r["asset_id"], r["viewer_key"], r["type"]): r["last_counted_at"]
        for r in await conn.fetch(SELECT_GUARDS, *_columns(keys, 3))
    }
    suppressed, changed = double_clicks(new_events, last_counted)
    if suppressed:
        await conn.execute(MARK_DOUBLE_CLICKS, sorted(suppressed, key=str))
    if changed:
        rows = sorted((*key, at) for key, at in changed.items())
        await conn.execute(UPSERT_GUARDS, *_columns(rows, 4))
    return suppressed


async def _write_usage(conn: asyncpg.Connection, usage: BatchUsage) -> None:
    new_uniques_daily: Counter[tuple[object, ...]] = Counter()
    if usage.viewer_days:
        viewer_rows = sorted(usage.viewer_days)
        for r in await conn.fetch(INSERT_VIEWER_DAYS, *_columns(viewer_rows, 4)):
            new_uniques_daily[(r["asset_id"], r["day"], r["device_class"])] += 1
    new_uniques_total: Counter[str] = Counter()
    if usage.asset_viewers:
        asset_viewer_rows = sorted(usage.asset_viewers)
        for r in await conn.fetch(INSERT_ASSET_VIEWERS, *_columns(asset_viewer_rows, 2)):
            new_uniques_total[r["asset_id"]] += 1

    daily_rows = sorted(
        (*key, c.views, new_uniques_daily[key], c.downloads, c.engaged_ms, c.wall_ms)
        for key, c in usage.daily.items()
    )
    if daily_rows:
        await conn.execute(UPSERT_DAILY, *_columns(daily_rows, 8))
    if usage.dwell_by_view:
        dwell_rows = sorted((view_id, *rest) for view_id, rest in usage.dwell_by_view.items())
        await conn.execute(UPSERT_VIEW_DWELL, *_columns(dwell_rows, 6))
    total_rows = sorted(
        (asset, c.views, new_uniques_total[asset], c.downloads, c.engaged_ms, c.wall_ms,
         usage.last_event_at.get(asset))
        for asset, c in usage.totals.items()
    )
    if total_rows:
        await conn.execute(UPSERT_TOTALS, *_columns(total_rows, 7))


async def _write_rating_deltas(conn: asyncpg.Connection, deltas: dict[RatingKey, int]) -> None:
    rows = sorted((*key, n) for key, n in deltas.items())
    if rows:
        await conn.execute(UPSERT_RATING_DAILY, *_columns(rows, 4))
