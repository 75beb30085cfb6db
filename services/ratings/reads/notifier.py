"""Every read ratings makes of tables the notifier owns (alerts, alert_deliveries,
alert_delivery_items): the alert inbox. Whether an alert was read comes from ratings' own
``alert_reads``, marked by the alert's owner."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

__all__ = ["alert_owner", "list_alerts", "unread_alert_ids", "unread_count"]

# read_at is the owner's mark (only the owner marks an alert read), also in the admins'
# everyone view.
LIST_ALERTS = """
SELECT a.id, a.asset_id, a.rule, a.episode, a.title, a.owner_email, a.summary,
       a.details::text AS details, a.fired_at, r.read_at,
       coalesce(json_agg(json_build_object(
           'channel', d.channel, 'kind', d.kind, 'state', d.state, 'attempts', d.attempts,
           'due_at', d.due_at, 'sent_at', d.sent_at, 'last_error', d.last_error)
           ORDER BY d.id) FILTER (WHERE d.id IS NOT NULL), '[]')::text AS deliveries
FROM alerts a
LEFT JOIN users o ON o.email = lower(a.owner_email)
LEFT JOIN alert_reads r ON r.alert_id = a.id AND r.user_id = o.id
LEFT JOIN alert_delivery_items i ON i.alert_id = a.id
LEFT JOIN alert_deliveries d ON d.id = i.delivery_id
WHERE ($1::text IS NULL OR lower(a.owner_email) = $1)
  AND (NOT $2 OR r.read_at IS NULL)
  AND ($3::bigint IS NULL OR a.id < $3)
GROUP BY a.id, r.read_at
ORDER BY a.id DESC
LIMIT $4
"""
# The alerts of owner $1 that user $2 (the same person) has not marked read.
_UNREAD_OF = """
FROM alerts a
WHERE lower(a.owner_email) = $1
  AND NOT EXISTS (SELECT 1 FROM alert_reads r WHERE r.alert_id = a.id AND r.user_id = $2)
"""
UNREAD_COUNT = f"SELECT count(*) {_UNREAD_OF}"
UNREAD_IDS = f"SELECT a.id {_UNREAD_OF}"
SELECT_OWNER = "SELECT owner_email FROM alerts WHERE id = $1"


async def list_alerts(pool: asyncpg.Pool, owner: str | None, *, unread_only: bool,
                      before_id: int | None, limit: int) -> list[dict[str, Any]]:
    """Newest first; ``owner`` None lists everyone's (admins)."""
    rows = await pool.fetch(LIST_ALERTS, owner.lower() if owner else None, unread_only,
                            before_id, limit)
    return [{**dict(r), "details": json.loads(r["details"]),
             "deliveries": json.loads(r["deliveries"])} for r in rows]


async def unread_count(pool: asyncpg.Pool, owner: str, user_id: int) -> int:
    return int(await pool.fetchval(UNREAD_COUNT, owner.lower(), user_id))


async def unread_alert_ids(pool: asyncpg.Pool, owner: str, user_id: int) -> list[int]:
    return [r["id"] for r in await pool.fetch(UNREAD_IDS, owner.lower(), user_id)]


async def alert_owner(pool: asyncpg.Pool, alert_id: int) -> str | None:
    """The owner's email, or None when there is no such alert."""
    return await pool.fetchval(SELECT_OWNER, alert_id)  # type: ignore[no-any-return]
