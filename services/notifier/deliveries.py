"""The delivery worker: sends what the decisions put in the outbox, exactly once in effect.

A delivery moves ``pending -> sending -> sent``. Claiming it (``sending``, a fresh
``attempt_id``, attempts + 1) commits BEFORE the message goes out, and ``sent`` commits
after the server accepted it; every later write names the attempt_id, so a reclaimed
attempt can never overwrite a newer one. A failed attempt goes back to ``pending`` with
an exponential backoff, or to ``failed`` when it was the last one or cannot succeed (5xx
from SMTP, 4xx from a webhook). A ``sending`` row whose process died is reclaimed after
``lease_seconds``: that is the one case where a message can reach the wire twice, with the
same Message-ID / delivery header both times (docs/alerts.md).

Several notifier processes may run workers: ``FOR UPDATE SKIP LOCKED`` gives each its
own rows.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import uuid
from typing import Any

import asyncpg

from shared.periodic import Drain

from .channels import Channels, Delivery, DeliveryError
from .metrics import ALERTS
from .render import AlertView

__all__ = ["DeliveryWorker", "retry_delay"]

log = logging.getLogger(__name__)

CLAIM = """
UPDATE alert_deliveries d
SET state = 'sending', attempt_id = $2, attempts = d.attempts + 1, claimed_at = now()
FROM (
    SELECT id FROM alert_deliveries
    WHERE (state = 'pending' AND due_at <= now())
       OR (state = 'sending' AND claimed_at < now() - make_interval(secs => $3))
    ORDER BY due_at, id LIMIT $1 FOR UPDATE SKIP LOCKED
) c
WHERE d.id = c.id
RETURNING d.id, d.message_key, d.recipient_email, d.channel, d.target, d.kind, d.attempts
"""
SELECT_ALERTS = """
SELECT i.delivery_id, a.id, a.asset_id, a.rule, a.title, a.summary, a.details::text AS details,
       a.fired_at
FROM alert_delivery_items i JOIN alerts a ON a.id = i.alert_id
WHERE i.delivery_id = any($1::bigint[])
ORDER BY a.fired_at, a.id
"""
MARK_SENT = """
UPDATE alert_deliveries SET state = 'sent', sent_at = now(), last_error = NULL
WHERE id = $1 AND attempt_id = $2
"""
MARK_FAILED_ATTEMPT = """
UPDATE alert_deliveries
SET state = CASE WHEN $3 OR attempts >= $4 THEN 'failed' ELSE 'pending' END,
    due_at = now() + make_interval(secs => $5), last_error = $6
WHERE id = $1 AND attempt_id = $2
RETURNING state
"""
NEXT_DUE = """
SELECT extract(epoch FROM min(due_at) - now()) FROM alert_deliveries WHERE state = 'pending'
"""


def retry_delay(attempts: int, base: float, cap: float, jitter: float = 0.5) -> float:
    """Seconds before attempt ``attempts + 1``: ``base * 2**(attempts - 1)``, capped, then
    spread by ±20% (``jitter`` in [0, 1)) so that retries after an outage do not arrive
    all at once."""
    delay = min(cap, base * 2 ** max(0, attempts - 1))
    return delay * (0.8 + 0.4 * jitter)


class DeliveryWorker(Drain):
    """Sends due deliveries; ``nudge()`` after a batch decided alerts looks at once. Stopping
    cancels between sends; a send cut short stays ``sending`` and is reclaimed."""

    def __init__(
        self, pool: asyncpg.Pool, channels: Channels, *, max_attempts: int,
        retry_base: float, retry_max: float, lease_seconds: float,
        hold_seconds: float = 0.0, batch: int = 20, idle_seconds: float = 1.0,
    ) -> None:
        super().__init__("alert-delivery-worker", self.run_once, poll_seconds=idle_seconds,
                         retry_seconds=idle_seconds, idle_wait=self._next_wait,
                         hold_seconds=hold_seconds)
        self.pool = pool
        self.channels = channels
        self.max_attempts = max_attempts
        self.retry_base = retry_base
        self.retry_max = retry_max
        self.lease_seconds = lease_seconds
        self.batch = batch
        self.idle_seconds = idle_seconds

    async def run_once(self) -> int:
        """Claim and send one batch of due deliveries; returns how many were claimed."""
        attempt = uuid.uuid4()
        rows = await self.pool.fetch(CLAIM, self.batch, attempt, self.lease_seconds)
        if not rows:
            return 0
        deliveries = [Delivery(id=r["id"], message_key=r["message_key"],
                               recipient_email=r["recipient_email"], channel=r["channel"],
                               target=r["target"], kind=r["kind"], attempts=r["attempts"])
                      for r in rows]
        alerts: dict[int, list[AlertView]] = {d.id: [] for d in deliveries}
        for r in await self.pool.fetch(SELECT_ALERTS, list(alerts)):
            alerts[r["delivery_id"]].append(AlertView(
                id=r["id"], asset_id=r["asset_id"], rule=r["rule"], title=r["title"],
                summary=r["summary"], fired_at=r["fired_at"], details=json.loads(r["details"])))
        await asyncio.gather(*(self._send(d, alerts[d.id], attempt) for d in deliveries))
        return len(deliveries)

    async def _send(self, delivery: Delivery, alerts: list[AlertView], attempt: uuid.UUID) -> None:
        try:
            if not alerts:
                raise DeliveryError("no alerts left to deliver", permanent=True)
            await self.channels.send(delivery, alerts)
        except DeliveryError as exc:
            await self._failed(delivery, attempt, str(exc), exc.permanent)
            return
        except Exception as exc:  # noqa: BLE001 - an unexpected error is retried, not lost
            log.exception("delivery %d: unexpected error", delivery.id)
            await self._failed(delivery, attempt, f"{type(exc).__name__}", False)
            return
        await self.pool.execute(MARK_SENT, delivery.id, attempt)
        ALERTS.labels("sent").inc()
        log.info("delivery %d sent: %s, %d alert(s), attempt %d", delivery.id,
                 delivery.channel, len(alerts), delivery.attempts)

    async def _failed(self, delivery: Delivery, attempt: uuid.UUID, reason: str,
                      permanent: bool) -> None:
        delay = retry_delay(delivery.attempts, self.retry_base, self.retry_max, random.random())
        state = await self.pool.fetchval(MARK_FAILED_ATTEMPT, delivery.id, attempt, permanent,
                                         self.max_attempts, delay, reason[:500])
        ALERTS.labels("failed" if state == "failed" else "retrying").inc()
        if state == "failed":
            log.warning("delivery %d failed for good after %d attempt(s): %s", delivery.id,
                        delivery.attempts, reason)
        else:
            log.info("delivery %d attempt %d failed, retrying in %.1f s: %s", delivery.id,
                     delivery.attempts, delay, reason)

    async def _next_wait(self) -> float:
        seconds: Any = await self.pool.fetchval(NEXT_DUE)
        if seconds is None:
            return self.idle_seconds
        return min(self.idle_seconds, max(0.05, float(seconds)))
