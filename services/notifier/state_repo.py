"""The notifier's SQL on its own tables: position, rule states, alert decisions and outbox.

What it reads of the ratings service's tables (catalog, comments, owners' settings) goes
through ``reads/ratings.py``; the delivery worker's statements are in ``deliveries.py``.

Everything a batch decides is written by ``DecisionWriter`` inside the caller's
transaction, together with the new position (``save_offsets``): the rule states, the
alerts and their deliveries commit with the offsets that produced them, or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

import asyncpg

from shared.scores import AssetScoreUpdate

from .reads.ratings import OwnerSettings
from .recipients import Target, targets_for
from .rules import Outcome, RuleState

__all__ = [
    "DecisionWriter",
    "latest_states",
    "lock_asset_revisions",
    "lock_offsets",
    "lock_rule_states",
    "reset_offsets_beyond",
    "rule_state",
    "save_asset_states",
    "save_offsets",
    "stored_offsets",
    "write_delivery",
]

# --- position --------------------------------------------------------------------------------

ENSURE_OFFSETS = """
INSERT INTO notifier_offsets (group_id, topic, partition, next_offset)
SELECT $1, t, p, 0 FROM unnest($2::text[], $3::int[]) AS x(t, p)
ON CONFLICT DO NOTHING
"""
LOCK_OFFSETS = """
SELECT topic, partition, next_offset FROM notifier_offsets
WHERE group_id = $1 AND (topic, partition) IN (SELECT * FROM unnest($2::text[], $3::int[]))
ORDER BY topic, partition FOR UPDATE
"""
SAVE_OFFSETS = """
UPDATE notifier_offsets o SET next_offset = x.o, updated_at = now()
FROM unnest($2::text[], $3::int[], $4::bigint[]) AS x(t, p, o)
WHERE o.group_id = $1 AND o.topic = x.t AND o.partition = x.p
"""
RESET_OFFSETS_BEYOND = """
UPDATE notifier_offsets o SET next_offset = x.s, updated_at = now()
FROM unnest($2::text[], $3::int[], $4::bigint[], $5::bigint[]) AS x(t, p, e, s)
WHERE o.group_id = $1 AND o.topic = x.t AND o.partition = x.p AND o.next_offset > x.e
"""
STORED_OFFSETS = "SELECT topic, partition, next_offset FROM notifier_offsets WHERE group_id = $1"

Partition = tuple[str, int]


async def lock_offsets(
    conn: asyncpg.Connection, group: str, partitions: Iterable[Partition]
) -> dict[Partition, int]:
    """The stored next offset of each partition, locked until the transaction ends (two
    consumers briefly holding one partition during a rebalance then apply it once)."""
    keys = sorted(set(partitions))
    topics, numbers = [t for t, _ in keys], [p for _, p in keys]
    await conn.execute(ENSURE_OFFSETS, group, topics, numbers)
    rows = await conn.fetch(LOCK_OFFSETS, group, topics, numbers)
    return {(r["topic"], r["partition"]): r["next_offset"] for r in rows}


async def save_offsets(
    conn: asyncpg.Connection, group: str, offsets: Mapping[Partition, int]
) -> None:
    keys = sorted(offsets)
    await conn.execute(SAVE_OFFSETS, group, [t for t, _ in keys], [p for _, p in keys],
                       [offsets[k] for k in keys])


async def reset_offsets_beyond(
    pool: asyncpg.Pool, group: str, bounds: Mapping[Partition, tuple[int, int]]
) -> None:
    """Set each partition's position to its start ``bounds[p][1]`` where it is still
    above ``bounds[p][0]``, the last offset found missing (a fresh broker under an old
    database); a position a concurrent batch moved meanwhile is left alone."""
    keys = sorted(bounds)
    await pool.execute(RESET_OFFSETS_BEYOND, group, [t for t, _ in keys], [p for _, p in keys],
                       [bounds[k][0] for k in keys], [bounds[k][1] for k in keys])


async def stored_offsets(pool: asyncpg.Pool, group: str) -> dict[Partition, int]:
    return {(r["topic"], r["partition"]): r["next_offset"]
            for r in await pool.fetch(STORED_OFFSETS, group)}


# --- asset states ------------------------------------------------------------------------------

LOCK_REVISIONS = """
SELECT asset_id, revision FROM alert_asset_state WHERE asset_id = any($1::text[])
ORDER BY asset_id FOR UPDATE
"""
SAVE_ASSET_STATES = """
INSERT INTO alert_asset_state (asset_id, revision, message, updated_at)
SELECT a, r, m, now() FROM unnest($1::text[], $2::bigint[], $3::text[]::jsonb[]) AS x(a, r, m)
ON CONFLICT (asset_id) DO UPDATE SET
    revision = excluded.revision, message = excluded.message, updated_at = now()
"""
LATEST_STATES = """
SELECT asset_id, message::text AS message FROM alert_asset_state
WHERE asset_id = any($1::text[])
"""


async def lock_asset_revisions(conn: asyncpg.Connection, asset_ids: Sequence[str]) -> dict[str, int]:
    rows = await conn.fetch(LOCK_REVISIONS, sorted(set(asset_ids)))
    return {r["asset_id"]: r["revision"] for r in rows}


async def save_asset_states(conn: asyncpg.Connection, updates: Sequence[AssetScoreUpdate]) -> None:
    if updates:
        await conn.execute(SAVE_ASSET_STATES, [u.asset_id for u in updates],
                           [u.revision for u in updates], [u.model_dump_json() for u in updates])


async def latest_states(conn: asyncpg.Connection, asset_ids: Sequence[str]) -> dict[str, AssetScoreUpdate]:
    rows = await conn.fetch(LATEST_STATES, list(asset_ids))
    return {r["asset_id"]: AssetScoreUpdate.model_validate_json(r["message"]) for r in rows}


# --- rule states --------------------------------------------------------------------------------

LOCK_RULE_STATES = """
SELECT s.asset_id, s.rule, s.status, s.episode, s.pending_since, s.last_fired_at,
       s.suppressed, s.last_source
FROM alert_rule_state s
JOIN unnest($1::text[], $2::text[]) AS k(a, r) ON s.asset_id = k.a AND s.rule = k.r
ORDER BY s.asset_id, s.rule FOR UPDATE OF s
"""
SAVE_RULE_STATES = """
INSERT INTO alert_rule_state (asset_id, rule, status, episode, pending_since, last_fired_at,
                              suppressed, last_source, updated_at)
SELECT *, now() FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::timestamptz[],
                            $6::timestamptz[], $7::int[], $8::text[])
ON CONFLICT (asset_id, rule) DO UPDATE SET
    status = excluded.status, episode = excluded.episode,
    pending_since = excluded.pending_since, last_fired_at = excluded.last_fired_at,
    suppressed = excluded.suppressed, last_source = excluded.last_source, updated_at = now()
"""


def rule_state(row: asyncpg.Record) -> RuleState:
    return RuleState(status=row["status"], episode=row["episode"],
                     pending_since=row["pending_since"], last_fired_at=row["last_fired_at"],
                     suppressed=row["suppressed"], last_source=row["last_source"])


async def lock_rule_states(
    conn: asyncpg.Connection, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], RuleState]:
    ordered = sorted(set(keys))
    rows = await conn.fetch(LOCK_RULE_STATES, [a for a, _ in ordered], [r for _, r in ordered])
    return {(r["asset_id"], r["rule"]): rule_state(r) for r in rows}


# --- decisions and the delivery outbox -----------------------------------------------------------

INSERT_ALERT = """
INSERT INTO alerts (asset_id, rule, episode, revision, owner_email, title, summary, details,
                    fired_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::jsonb, $9)
ON CONFLICT (asset_id, rule, episode) WHERE link_id IS NULL DO NOTHING
RETURNING id
"""
INSERT_IMMEDIATE = """
INSERT INTO alert_deliveries (recipient_email, channel, target, kind, due_at)
VALUES ($1, $2, $3, 'immediate', $4) RETURNING id
"""
# The day's open digest of this recipient and target, or a new one. The row lock taken by
# DO UPDATE makes a digest being claimed for sending wait until this alert is in it.
UPSERT_DIGEST = """
INSERT INTO alert_deliveries (recipient_email, channel, target, kind, digest_day, due_at)
VALUES ($1, $2, $3, 'digest', $4, $5)
ON CONFLICT (recipient_email, channel, target, digest_day)
    WHERE kind = 'digest' AND state = 'pending'
DO UPDATE SET due_at = alert_deliveries.due_at
RETURNING id
"""
INSERT_ITEM = """
INSERT INTO alert_delivery_items (delivery_id, alert_id) VALUES ($1, $2) ON CONFLICT DO NOTHING
"""


class DecisionWriter:
    """Writes rule outcomes, their alerts and deliveries in the caller's transaction."""

    def __init__(self, conn: asyncpg.Connection, owners: OwnerSettings, now: datetime,
                 digest_hour: int) -> None:
        self.conn = conn
        self.owners = owners
        self.now = now
        self.digest_hour = digest_hour
        self.alerts = 0
        self.deliveries = 0

    async def write(self, outcomes: Sequence[Outcome]) -> None:
        """Store the last state per (asset, rule) of ``outcomes`` (in order), and every
        alert among them with its deliveries."""
        if not outcomes:
            return
        last = list({(o.asset_id, o.rule): o for o in outcomes}.values())
        await self.conn.execute(
            SAVE_RULE_STATES,
            [o.asset_id for o in last], [o.rule for o in last],
            [o.after.status for o in last], [o.after.episode for o in last],
            [o.after.pending_since for o in last], [o.after.last_fired_at for o in last],
            [o.after.suppressed for o in last], [o.after.last_source for o in last],
        )
        for outcome in outcomes:
            if outcome.alert is not None:
                await self._alert(outcome)

    async def _alert(self, outcome: Outcome) -> None:
        draft = outcome.alert
        assert draft is not None
        alert_id = await self.conn.fetchval(
            INSERT_ALERT, draft.asset_id, draft.rule, draft.episode, draft.revision,
            draft.owner_email, draft.title, draft.summary, json.dumps(draft.details), self.now)
        if alert_id is None:
            return  # this episode was decided before: its deliveries exist already
        self.alerts += 1
        prefs = self.owners.preferences_for(draft.owner_email)
        for target in targets_for(draft.owner_email, prefs, self.now, self.digest_hour):
            await write_delivery(self.conn, alert_id, target)
            self.deliveries += 1


async def write_delivery(conn: asyncpg.Connection, alert_id: int, target: Target) -> None:
    """Put ``alert_id`` in the outbox for ``target``: a delivery of its own (immediate) or
    the target's open digest of the day."""
    if target.kind == "immediate":
        delivery_id = await conn.fetchval(
            INSERT_IMMEDIATE, target.recipient_email, target.channel, target.target,
            target.due_at)
    else:
        delivery_id = await conn.fetchval(
            UPSERT_DIGEST, target.recipient_email, target.channel, target.target,
            target.due_at.date(), target.due_at)
    await conn.execute(INSERT_ITEM, delivery_id, alert_id)
