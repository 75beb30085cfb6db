"""Fires pending rules whose confirmation delay has passed while no new state arrived.

A level rule whose condition holds waits ``confirm_minutes`` before it fires (a transient
dip, or a history being replayed, must not page anyone). New asset states re-check it as
they come; a quiet asset may get none for hours, so this sweep re-evaluates every pending
rule on the newest state the notifier applied, with the same pure rules. Rows the
consumer holds are skipped (SKIP LOCKED) and looked at again on the next sweep.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import asyncpg

from shared.alert_rules import with_overrides
from shared.events import utcnow
from shared.periodic import Periodic

from .config import NotifierConfig
from .metrics import ALERTS
from .reads.ratings import owner_settings
from .rules import Outcome, evaluate_scores
from .state_repo import DecisionWriter, latest_states, rule_state

__all__ = ["PendingSweeper"]

log = logging.getLogger(__name__)

SELECT_PENDING = """
SELECT asset_id, rule, status, episode, pending_since, last_fired_at, suppressed, last_source
FROM alert_rule_state WHERE status = 'pending'
ORDER BY asset_id, rule LIMIT 500 FOR UPDATE SKIP LOCKED
"""


class PendingSweeper(Periodic):
    def __init__(self, pool: asyncpg.Pool, config: NotifierConfig, *,
                 interval_seconds: float = 15.0, on_decided: Callable[[], None] = lambda: None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        super().__init__("alert-pending-sweeper", interval_seconds, self._sweep)
        self.pool = pool
        self.config = config
        self.on_decided = on_decided
        self.clock = clock

    async def sweep_once(self) -> int:
        """Re-evaluate every pending rule; returns the number of alerts it fired."""
        now = self.clock()
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(SELECT_PENDING)
            if not rows:
                return 0
            states = await latest_states(conn, sorted({r["asset_id"] for r in rows}))
            owners = await owner_settings(conn, [s.owner_email for s in states.values()])
            outcomes: list[Outcome] = []
            for row in rows:
                update = states.get(row["asset_id"])
                if update is None:
                    continue
                rules = with_overrides(self.config.rules, owners.overrides_for(update.owner_email))
                outcomes.extend(evaluate_scores(update, rules, {row["rule"]: rule_state(row)}, now,
                                                only=(row["rule"],)))
            writer = DecisionWriter(conn, owners, now, self.config.settings.alert_digest_hour)
            await writer.write(outcomes)
        return writer.alerts

    async def _sweep(self) -> None:
        """Pending rules stay pending when a sweep fails: the next one tries them again."""
        if fired := await self.sweep_once():
            ALERTS.labels("raised").inc(fired)
            self.on_decided()
