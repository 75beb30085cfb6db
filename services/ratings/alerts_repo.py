"""SQL of the alert inbox and of people's alert settings (tables of migration 0004; the
notifier writes the alerts and deliveries, this app reads them and marks them read)."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

__all__ = [
    "delete_override",
    "fetch_overrides",
    "fetch_preferences",
    "list_alerts",
    "mark_all_read",
    "mark_read",
    "save_override",
    "save_preferences",
    "unread_count",
]

LIST_ALERTS = """
SELECT a.id, a.asset_id, a.rule, a.episode, a.title, a.owner_email, a.summary,
       a.details::text AS details, a.fired_at, a.read_at,
       coalesce(json_agg(json_build_object(
           'channel', d.channel, 'kind', d.kind, 'state', d.state, 'attempts', d.attempts,
           'due_at', d.due_at, 'sent_at', d.sent_at, 'last_error', d.last_error)
           ORDER BY d.id) FILTER (WHERE d.id IS NOT NULL), '[]')::text AS deliveries
FROM alerts a
LEFT JOIN alert_delivery_items i ON i.alert_id = a.id
LEFT JOIN alert_deliveries d ON d.id = i.delivery_id
WHERE ($1::text IS NULL OR lower(a.owner_email) = $1)
  AND (NOT $2 OR a.read_at IS NULL)
  AND ($3::bigint IS NULL OR a.id < $3)
GROUP BY a.id
ORDER BY a.id DESC
LIMIT $4
"""
UNREAD = "SELECT count(*) FROM alerts WHERE lower(owner_email) = $1 AND read_at IS NULL"
SELECT_OWNER = "SELECT owner_email FROM alerts WHERE id = $1"
MARK_READ = "UPDATE alerts SET read_at = coalesce(read_at, now()) WHERE id = $1"
MARK_ALL_READ = """
UPDATE alerts SET read_at = now() WHERE lower(owner_email) = $1 AND read_at IS NULL
"""
SELECT_PREFERENCES = "SELECT email, webhook_url, mode FROM alert_preferences WHERE user_id = $1"
UPSERT_PREFERENCES = """
INSERT INTO alert_preferences (user_id, email, webhook_url, mode) VALUES ($1, $2, $3, $4)
ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, webhook_url = excluded.webhook_url,
                                    mode = excluded.mode, updated_at = now()
"""
SELECT_OVERRIDES = "SELECT rule, params::text AS params FROM alert_rule_overrides WHERE user_id = $1"
UPSERT_OVERRIDE = """
INSERT INTO alert_rule_overrides (user_id, rule, params) VALUES ($1, $2, $3::text::jsonb)
ON CONFLICT (user_id, rule) DO UPDATE SET params = excluded.params, updated_at = now()
"""
DELETE_OVERRIDE = "DELETE FROM alert_rule_overrides WHERE user_id = $1 AND rule = $2"


async def list_alerts(pool: asyncpg.Pool, owner: str | None, *, unread_only: bool,
                      before_id: int | None, limit: int) -> list[dict[str, Any]]:
    """Newest first; ``owner`` None lists everyone's (admins)."""
    rows = await pool.fetch(LIST_ALERTS, owner.lower() if owner else None, unread_only,
                            before_id, limit)
    return [{**dict(r), "details": json.loads(r["details"]),
             "deliveries": json.loads(r["deliveries"])} for r in rows]


async def unread_count(pool: asyncpg.Pool, owner: str) -> int:
    return int(await pool.fetchval(UNREAD, owner.lower()))


async def mark_read(pool: asyncpg.Pool, alert_id: int, owner: str) -> bool | None:
    """None: no such alert; False: someone else's; True: marked (or already read)."""
    found = await pool.fetchval(SELECT_OWNER, alert_id)
    if found is None:
        return None
    if found.lower() != owner.lower():
        return False
    await pool.execute(MARK_READ, alert_id)
    return True


async def mark_all_read(pool: asyncpg.Pool, owner: str) -> int:
    status = await pool.execute(MARK_ALL_READ, owner.lower())
    return int(status.split()[-1])


async def fetch_preferences(pool: asyncpg.Pool, user_id: int) -> dict[str, Any]:
    row = await pool.fetchrow(SELECT_PREFERENCES, user_id)
    if row is None:
        return {"email": True, "webhook_url": None, "mode": "immediate"}
    return dict(row)


async def save_preferences(pool: asyncpg.Pool, user_id: int, email: bool,
                           webhook_url: str | None, mode: str) -> None:
    await pool.execute(UPSERT_PREFERENCES, user_id, email, webhook_url, mode)


async def fetch_overrides(pool: asyncpg.Pool, user_id: int) -> dict[str, dict[str, Any]]:
    return {r["rule"]: json.loads(r["params"]) for r in await pool.fetch(SELECT_OVERRIDES, user_id)}


async def save_override(pool: asyncpg.Pool, user_id: int, rule: str,
                        params: dict[str, Any]) -> None:
    await pool.execute(UPSERT_OVERRIDE, user_id, rule, json.dumps(params))


async def delete_override(pool: asyncpg.Pool, user_id: int, rule: str) -> None:
    await pool.execute(DELETE_OVERRIDE, user_id, rule)
