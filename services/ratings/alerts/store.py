"""SQL of people's alert settings and of which alerts they read: alert_preferences,
alert_rule_overrides and alert_reads, tables ratings owns. The alerts themselves are the
notifier's, read through reads/notifier.py."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg

__all__ = [
    "delete_override",
    "fetch_overrides",
    "fetch_preferences",
    "mark_many_read",
    "mark_read",
    "rotate_webhook_key",
    "save_override",
    "save_preferences",
]

# First read wins: marking an alert read again keeps the time it was first read.
MARK_READ = """
INSERT INTO alert_reads (alert_id, user_id, read_at) VALUES ($1, $2, now())
ON CONFLICT DO NOTHING
"""
MARK_MANY_READ = """
INSERT INTO alert_reads (alert_id, user_id, read_at)
SELECT unnest($1::bigint[]), $2, now()
ON CONFLICT DO NOTHING
"""
SELECT_PREFERENCES = "SELECT email, webhook_url, mode FROM alert_preferences WHERE user_id = $1"
# A new webhook URL takes the new key id ($5), so it gets its own secret; the same URL
# saved again keeps its key id, and its secret.
UPSERT_PREFERENCES = """
INSERT INTO alert_preferences AS p (user_id, email, webhook_url, mode, webhook_key_id)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, webhook_url = excluded.webhook_url,
                                    mode = excluded.mode, updated_at = now(),
    webhook_key_id = CASE WHEN p.webhook_url IS DISTINCT FROM excluded.webhook_url
                          THEN excluded.webhook_key_id ELSE p.webhook_key_id END
RETURNING webhook_key_id
"""
ROTATE_WEBHOOK_KEY = """
UPDATE alert_preferences SET webhook_key_id = $2, updated_at = now()
WHERE user_id = $1 AND webhook_url IS NOT NULL
RETURNING webhook_key_id
"""
SELECT_OVERRIDES = """
SELECT rule, params::text AS params FROM alert_rule_overrides WHERE user_id = $1
"""
UPSERT_OVERRIDE = """
INSERT INTO alert_rule_overrides (user_id, rule, params) VALUES ($1, $2, $3::text::jsonb)
ON CONFLICT (user_id, rule) DO UPDATE SET params = excluded.params, updated_at = now()
"""
DELETE_OVERRIDE = "DELETE FROM alert_rule_overrides WHERE user_id = $1 AND rule = $2"


async def mark_read(pool: asyncpg.Pool, alert_id: int, user_id: int) -> None:
    await pool.execute(MARK_READ, alert_id, user_id)


async def mark_many_read(pool: asyncpg.Pool, alert_ids: list[int], user_id: int) -> int:
    """How many of the alerts were not marked read before."""
    status = await pool.execute(MARK_MANY_READ, alert_ids, user_id)
    return int(status.split()[-1])


async def fetch_preferences(pool: asyncpg.Pool, user_id: int) -> dict[str, Any]:
    row = await pool.fetchrow(SELECT_PREFERENCES, user_id)
    if row is None:
        return {"email": True, "webhook_url": None, "mode": "immediate"}
    return dict(row)


async def save_preferences(pool: asyncpg.Pool, user_id: int, email: bool,
                           webhook_url: str | None, mode: str) -> uuid.UUID | None:
    """Store the preferences; the webhook's new key id when the URL is new (its secret is
    then shown to the owner), else None."""
    fresh = uuid.uuid4()
    key_id = await pool.fetchval(UPSERT_PREFERENCES, user_id, email, webhook_url, mode, fresh)
    return fresh if webhook_url is not None and key_id == fresh else None


async def rotate_webhook_key(pool: asyncpg.Pool, user_id: int) -> uuid.UUID | None:
    """A new key id (so a new secret) for the user's webhook; None when they have none."""
    return await pool.fetchval(  # type: ignore[no-any-return]
        ROTATE_WEBHOOK_KEY, user_id, uuid.uuid4())


async def fetch_overrides(pool: asyncpg.Pool, user_id: int) -> dict[str, dict[str, Any]]:
    return {r["rule"]: json.loads(r["params"]) for r in await pool.fetch(SELECT_OVERRIDES, user_id)}


async def save_override(pool: asyncpg.Pool, user_id: int, rule: str,
                        params: dict[str, Any]) -> None:
    await pool.execute(UPSERT_OVERRIDE, user_id, rule, json.dumps(params))


async def delete_override(pool: asyncpg.Pool, user_id: int, rule: str) -> None:
    await pool.execute(DELETE_OVERRIDE, user_id, rule)
