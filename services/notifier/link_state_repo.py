"""The notifier's SQL for hot-engagement alerts: which rule fired for which link
(``link_alert_state``) and the link alerts themselves (``alerts`` rows with a link_id).

Both are written in the consumer's batch transaction, with the deliveries
(``state_repo.write_delivery``) and the position: a link's rule is claimed, alerted and
put in the outbox together with the offsets that caused it, or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

import asyncpg

from .link_alerts import LinkAlert

__all__ = ["claim_link_rule", "fired_link_rules", "insert_link_alert"]

SELECT_FIRED = "SELECT link_id, rule FROM link_alert_state WHERE link_id = any($1::text[])"
# The claim: a concurrent batch holding the same (link, rule) makes this one wait for its
# commit, then find the row and claim nothing.
CLAIM_RULE = """
INSERT INTO link_alert_state (link_id, rule, fired_at) VALUES ($1, $2, $3)
ON CONFLICT DO NOTHING RETURNING rule
"""
INSERT_LINK_ALERT = """
INSERT INTO alerts (asset_id, rule, episode, link_id, owner_email, title, summary, details,
                    fired_at)
VALUES ($1, $2, 1, $3, $4, $5, $6, $7::text::jsonb, $8)
ON CONFLICT (link_id, rule) WHERE link_id IS NOT NULL DO NOTHING
RETURNING id
"""


async def fired_link_rules(conn: asyncpg.Connection,
                           link_ids: Sequence[str]) -> dict[str, frozenset[str]]:
    fired: dict[str, set[str]] = {}
    for r in await conn.fetch(SELECT_FIRED, sorted(set(link_ids))):
        fired.setdefault(r["link_id"], set()).add(r["rule"])
    return {link: frozenset(rules) for link, rules in fired.items()}


async def claim_link_rule(conn: asyncpg.Connection, link_id: str, rule: str,
                          now: datetime) -> bool:
    """Mark ``rule`` fired for the link; False when it had fired already."""
    return await conn.fetchval(CLAIM_RULE, link_id, rule, now) is not None


async def insert_link_alert(conn: asyncpg.Connection, alert: LinkAlert,
                            now: datetime) -> int | None:
    """The new alert's id, or None when this link's rule has its alert already."""
    return await conn.fetchval(  # type: ignore[no-any-return]
        INSERT_LINK_ALERT, alert.asset_id, alert.rule, alert.link_id, alert.rep_email,
        alert.title, alert.summary, json.dumps(alert.details), now)
