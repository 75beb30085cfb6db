"""Release held tracked-link hits once the burst rule can judge them.

The consumer holds every tracked-link download (``held_link_hits``) instead of counting it.
Once a hit has waited the burst window plus a margin, every hit that could share its burst
has been held too, so this loop judges it against them (shared/scanners.py): a burst's
hits go to ``rejected_events`` as ``suspect``, the others count through ``apply_events``,
and the hit's decision is written in the same transaction. A failed run leaves the hits
held, and the next one takes them again: none is lost or counted twice.

The margin covers consumer lag between partitions: a burst whose hits reach the aggregator
further apart than that is judged in pieces (docs/tracking.md says so).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import asyncpg

from shared.events import EventEnvelope, RejectReason
from shared.periodic import Periodic
from shared.scanners import BurstRule, LinkHit, suspect_bursts
from shared.scores import AssetScoreUpdate

from .repo import (
    apply_events,
    due_link_hits,
    engaged_clients,
    link_hits_around,
    mark_link_hits,
    rejected_event,
    store_rejected,
)
from .score_state import ScoreContext

__all__ = ["LinkHold", "Released"]

Publish = Callable[[Sequence[AssetScoreUpdate]], Awaitable[None]]


@dataclass(frozen=True)
class Released:
    counted: int = 0
    suspect: int = 0


class LinkHold(Periodic):
    def __init__(self, pool: asyncpg.Pool, rule: BurstRule, margin: timedelta,
                 context: Callable[[], ScoreContext], publish: Publish, *,
                 interval: float = 1.0, batch: int = 2000) -> None:
        super().__init__("link-hold", interval, self.release_all)
        self._pool = pool
        self.rule = rule
        self.hold_seconds = (rule.window + margin).total_seconds()
        self._context = context
        self._publish = publish
        self._batch = batch

    async def release_all(self) -> Released:
        counted = suspect = 0
        while True:
            released = await self.release()
            counted += released.counted
            suspect += released.suspect
            if released.counted + released.suspect < self._batch:
                return Released(counted, suspect)

    async def release(self) -> Released:
        """Judge one batch of due hits; returns how many counted and how many are suspect."""
        async with self._pool.acquire() as conn, conn.transaction():
            due = await due_link_hits(conn, self.hold_seconds, self._batch)
            if not due:
                return Released()
            suspect = await self._suspects(conn, due)
            events = [EventEnvelope.model_validate(r["envelope"]) for r in due]
            await store_rejected(conn, [rejected_event(e, RejectReason.SUSPECT,
                                                       suspect[e.event_id])
                                        for e in events if e.event_id in suspect])
            counted = [e for e in events if e.event_id not in suspect]
            # Held hits are tracked-link downloads, never share opens: no visit to publish.
            updates = (await apply_events(conn, counted, [], self._context())).scores
            await mark_link_hits(conn, {e.event_id: "suspect" if e.event_id in suspect
                                        else "counted" for e in events})
        if updates:
            await self._publish(updates)
        return Released(len(counted), len(events) - len(counted))

    async def _suspects(self, conn: asyncpg.Connection,
                        due: Sequence[asyncpg.Record]) -> dict[object, str]:
        clients = sorted({r["client"] for r in due})
        since = min(r["received_at"] for r in due) - self.rule.window
        until = max(r["received_at"] for r in due) + self.rule.window
        around = [LinkHit(r["event_id"], r["client"], r["asset_id"], r["received_at"])
                  for r in await link_hits_around(conn, clients, since, until)]
        # Engagement any time up to now clears a burst, not just inside its window.
        engaged = await engaged_clients(conn, clients, since, until + timedelta(days=1))
        judged = suspect_bursts(around, engaged, self.rule)
        return {r["event_id"]: judged[r["event_id"]] for r in due if r["event_id"] in judged}
