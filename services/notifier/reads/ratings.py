"""Every statement of the notifier that reads a table the ratings service owns.

The catalog (``assets``), a rating's comment (``ratings``) and each owner's alert settings
(``users``, ``alert_preferences``, ``alert_rule_overrides``), the webhook key id of each
receiver's secret included; for hot-engagement alerts, each share link's creator and
recipient (``share_links``) and the creator's ``share_alert_preferences``. The notifier never writes
these tables; people change their settings in the ratings app.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import asyncpg

from ..link_alerts import LinkContext, ShareAlertSettings
from ..recipients import Preferences

__all__ = ["OwnerSettings", "asset_catalog", "link_contexts", "owner_settings",
           "rating_comments", "webhook_key"]

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
# The link's creator is who hears of it (users.email), whatever the message claims; the
# asset's title falls back to its id once the asset was deleted.
SELECT_LINKS = """
SELECT l.id, l.asset_id, coalesce(a.title, l.asset_id) AS title, u.email AS creator_email,
       l.recipient_email, l.recipient_name, l.company,
       p.user_id IS NOT NULL AS has_settings, p.first_open, p.reopen_after_days, p.forward,
       p.long_read_seconds, p.quiet_from_hour, p.quiet_to_hour
FROM share_links l
JOIN users u ON u.id = l.creator_id
LEFT JOIN assets a ON a.id = l.asset_id
LEFT JOIN share_alert_preferences p ON p.user_id = l.creator_id
WHERE l.id = any($1::text[])
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


async def link_contexts(
    conn: asyncpg.Connection, link_ids: Sequence[str]
) -> dict[str, tuple[LinkContext, ShareAlertSettings]]:
    """Each known link with its creator's alert settings (the defaults when they set none);
    links the ratings service does not hold are absent."""
    found = {}
    for r in await conn.fetch(SELECT_LINKS, sorted(set(link_ids))):
        link = LinkContext(link_id=r["id"], asset_id=r["asset_id"], title=r["title"],
                           creator_email=r["creator_email"],
                           recipient_email=r["recipient_email"],
                           recipient_name=r["recipient_name"], company=r["company"])
        settings = ShareAlertSettings(
            first_open=r["first_open"], reopen_after_days=r["reopen_after_days"],
            forward=r["forward"], long_read_seconds=r["long_read_seconds"],
            quiet_from_hour=r["quiet_from_hour"], quiet_to_hour=r["quiet_to_hour"],
        ) if r["has_settings"] else ShareAlertSettings()
        found[r["id"]] = (link, settings)
    return found


async def webhook_key(pool: asyncpg.Pool, owner_email: str, url: str) -> uuid.UUID | None:
    """The key id of the owner's webhook secret while ``url`` is still their webhook; None
    once they removed or changed it (nothing is then sent there)."""
    return await pool.fetchval(SELECT_WEBHOOK_KEY, owner_email, url)  # type: ignore[no-any-return]
