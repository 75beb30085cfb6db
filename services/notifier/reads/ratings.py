"""Every statement of the notifier that reads a table the ratings service owns.

The catalog (``assets``), a rating's comment (``ratings``) and each owner's alert settings
(``users``, ``alert_preferences``, ``alert_rule_overrides``), the webhook key id of each
receiver's secret included. The notifier never writes
these tables; people change their settings in the ratings app.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import asyncpg

from ..recipients import Preferences

__all__ = ["OwnerSettings", "asset_catalog", "owner_settings", "rating_comments",
           "webhook_key"]

# A deleted asset is out of the catalog: no alert about it (its ratings' withdrawal
# included).
SELECT_ASSETS = """
SELECT id, title, owner_email FROM assets WHERE id = any($1::text[]) AND deleted_at IS NULL
"""
SELECT_COMMENTS = """
SELECT r.asset_id, r.user_id, r.comment
FROM ratings r JOIN unnest($1::text[], $2::bigint[]) AS k(a, u)
  ON r.asset_id = k.a AND r.user_id = k.u
"""
SELECT_PREFERENCES = """
SELECT u.email, p.email AS email_on, p.webhook_url, p.mode
FROM users u JOIN alert_preferences p ON p.user_id = u.id WHERE u.email = any($1::text[])
"""
SELECT_WEBHOOK_KEY = """
SELECT p.webhook_key_id
FROM users u JOIN alert_preferences p ON p.user_id = u.id
WHERE u.email = lower($1) AND p.webhook_url = $2
"""
# A deactivated user hears nothing, whatever their preferences said (their alerts stay in
# the inbox, which they cannot open).
SELECT_DEACTIVATED = """
SELECT email FROM users WHERE email = any($1::text[]) AND deactivated_at IS NOT NULL
"""
SELECT_OVERRIDES = """
SELECT u.email, o.rule, o.params::text AS params
FROM users u JOIN alert_rule_overrides o ON o.user_id = u.id WHERE u.email = any($1::text[])
"""


async def asset_catalog(
    conn: asyncpg.Connection, asset_ids: Sequence[str]
) -> dict[str, tuple[str, str]]:
    """(title, owner email) per asset."""
    rows = await conn.fetch(SELECT_ASSETS, list(asset_ids))
    return {r["id"]: (r["title"], r["owner_email"]) for r in rows}


async def rating_comments(
    conn: asyncpg.Connection, keys: Sequence[tuple[str, int]]
) -> dict[tuple[str, int], str | None]:
    """The current comment of each (asset, rater): the event says only that there is one."""
    rows = await conn.fetch(SELECT_COMMENTS, [a for a, _ in keys], [u for _, u in keys])
    return {(r["asset_id"], r["user_id"]): r["comment"] for r in rows}


class OwnerSettings:
    """Each owner's rule overrides and delivery preferences, by lower-cased email."""

    def __init__(self, overrides: dict[str, dict[str, dict[str, Any]]],
                 preferences: dict[str, Preferences]) -> None:
        self.overrides = overrides
        self.preferences = preferences

    def overrides_for(self, email: str) -> dict[str, dict[str, Any]]:
        return self.overrides.get(email.lower(), {})

    def preferences_for(self, email: str) -> Preferences | None:
        return self.preferences.get(email.lower())


async def owner_settings(conn: asyncpg.Connection, emails: Iterable[str]) -> OwnerSettings:
    wanted = sorted({e.lower() for e in emails if e})
    overrides: dict[str, dict[str, dict[str, Any]]] = {}
    preferences: dict[str, Preferences] = {}
    if wanted:
        for r in await conn.fetch(SELECT_OVERRIDES, wanted):
            overrides.setdefault(r["email"], {})[r["rule"]] = json.loads(r["params"])
        for r in await conn.fetch(SELECT_PREFERENCES, wanted):
            preferences[r["email"]] = Preferences(email=r["email_on"],
                                                  webhook_url=r["webhook_url"], mode=r["mode"])
        for r in await conn.fetch(SELECT_DEACTIVATED, wanted):
            preferences[r["email"]] = Preferences(email=False, webhook_url=None)
    return OwnerSettings(overrides, preferences)


async def webhook_key(pool: asyncpg.Pool, owner_email: str, url: str) -> uuid.UUID | None:
    """The key id of the owner's webhook secret while ``url`` is still their webhook; None
    once they removed or changed it (nothing is then sent there)."""
    return await pool.fetchval(SELECT_WEBHOOK_KEY, owner_email, url)  # type: ignore[no-any-return]
