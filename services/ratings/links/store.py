"""SQL of share links and the reps' share-alert settings (tables ratings owns), and of who
manages whom (users.manager_id). Visits are the aggregator's: reads/aggregator.py.

Who may see a link in full is decided here, in the query itself: its creator, the
creator's manager, and admins. Everyone else finds no such link.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from shared.share_links import new_link_id

from .models import AlertPreferencesIn, ShareLinkIn

__all__ = [
    "UnknownAssets",
    "create_links",
    "erase_recipient",
    "fetch_alert_preferences",
    "get_link",
    "links_of_asset",
    "list_links",
    "revoke_link",
    "save_alert_preferences",
    "set_manager",
    "visible_creators",
]

_FROM = """
FROM share_links l JOIN users c ON c.id = l.creator_id JOIN assets a ON a.id = l.asset_id
"""
_COLUMNS = """
SELECT l.id, l.asset_id, a.title AS asset_title, l.creator_id, c.email AS creator_email,
       c.name AS creator_name, l.recipient_email, l.recipient_name, l.company,
       l.crm_contact_id, l.email_gate, l.created_at, l.expires_at, l.revoked_at, l.erased_at
""" + _FROM
# $1 the asking user, $2 whether they see every link (an admin).
_VISIBLE = "($2 OR l.creator_id = $1 OR c.manager_id = $1)"

LIST_VISIBLE = f"""{_COLUMNS}
WHERE {_VISIBLE} AND ($3::text IS NULL OR l.asset_id = $3) AND (NOT $6 OR l.creator_id = $1)
ORDER BY l.created_at DESC, l.id LIMIT $4 OFFSET $5
"""
GET_VISIBLE = f"{_COLUMNS} WHERE {_VISIBLE} AND l.id = $3"
REVOKE_VISIBLE = f"""
UPDATE share_links l SET revoked_at = coalesce(l.revoked_at, now())
FROM users c WHERE c.id = l.creator_id AND {_VISIBLE} AND l.id = $3
RETURNING l.id
"""
# Of everything the link kept about its recipient only the fact that it was sent stays;
# the visits keep no name, address or IP (migration 0013), so their counts stay too.
ERASE = """
UPDATE share_links SET recipient_email = NULL, recipient_name = NULL, company = NULL,
                       crm_contact_id = NULL, erased_at = coalesce(erased_at, now())
WHERE recipient_email = lower($1) AND ($2::bigint IS NULL OR creator_id = $2)
"""
# A deletion of the asset (which locks its row FOR UPDATE) waits for the links to commit.
LIVE_ASSETS = """
SELECT id FROM assets WHERE id = any($1::text[]) AND deleted_at IS NULL FOR KEY SHARE
"""
INSERT_LINKS = """
INSERT INTO share_links (id, asset_id, creator_id, recipient_email, recipient_name, company,
                         crm_contact_id, email_gate, expires_at)
SELECT i.id, i.asset_id, $1, lower(i.email), i.name, i.company, i.crm, i.gate, i.expires
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
            $8::boolean[], $9::timestamptz[])
     AS i(id, asset_id, email, name, company, crm, gate, expires)
"""
CREATED = f"{_COLUMNS} WHERE l.id = any($1::text[]) ORDER BY array_position($1::text[], l.id)"
OF_ASSET = """
SELECT l.id, l.creator_id, c.email AS creator_email, c.name AS creator_name
FROM share_links l JOIN users c ON c.id = l.creator_id WHERE l.asset_id = $1
"""
# Every live asset's links, for the board's "sent by sales" column (aggregates only).
LINKS_BY_ASSET = """
SELECT l.asset_id, array_agg(l.id) AS link_ids
FROM share_links l JOIN assets a ON a.id = l.asset_id AND a.deleted_at IS NULL
GROUP BY l.asset_id
"""
VISIBLE_CREATORS = "SELECT id FROM users WHERE id = $1 OR manager_id = $1"
MANAGER_CANDIDATE = "SELECT role, deactivated_at FROM users WHERE id = $1"
SET_MANAGER = "UPDATE users SET manager_id = $2 WHERE id = $1 RETURNING id, manager_id"

_PREFERENCES = tuple(AlertPreferencesIn.model_fields)
SELECT_PREFERENCES = (f"SELECT {', '.join(_PREFERENCES)} FROM share_alert_preferences "
                      "WHERE user_id = $1")
UPSERT_PREFERENCES = f"""
INSERT INTO share_alert_preferences (user_id, {', '.join(_PREFERENCES)})
VALUES ($1, {', '.join(f'${i}' for i in range(2, len(_PREFERENCES) + 2))})
ON CONFLICT (user_id) DO UPDATE SET
    {', '.join(f'{name} = excluded.{name}' for name in _PREFERENCES)}
"""


@dataclass(frozen=True)
class UnknownAssets:
    """Why no link was made: the positions of the links whose asset is not in the catalog."""

    positions: list[int]


async def create_links(pool: asyncpg.Pool, creator_id: int,
                       links: Sequence[ShareLinkIn]) -> list[asyncpg.Record] | UnknownAssets:
    """Insert every link in one transaction and return them in order; or, when any names
    no live asset, insert none."""
    ids = [new_link_id() for _ in links]
    async with pool.acquire() as conn, conn.transaction():
        live = {r["id"] for r in await conn.fetch(LIVE_ASSETS, sorted({x.asset_id
                                                                        for x in links}))}
        missing = [i for i, link in enumerate(links) if link.asset_id not in live]
        if missing:
            return UnknownAssets(missing)
        await conn.execute(
            INSERT_LINKS, creator_id, ids, [x.asset_id for x in links],
            [x.recipient_email for x in links], [x.recipient_name for x in links],
            [x.company for x in links], [x.crm_contact_id for x in links],
            [x.email_gate for x in links], [x.expires_at for x in links])
        return list(await conn.fetch(CREATED, ids))


async def list_links(pool: asyncpg.Pool, user_id: int, sees_all: bool, asset_id: str | None,
                     *, mine: bool = False, limit: int | None = None,
                     offset: int = 0) -> list[asyncpg.Record]:
    """The links ``user_id`` may see (``mine``: made), newest first (all when ``limit`` is
    None)."""
    return list(await pool.fetch(LIST_VISIBLE, user_id, sees_all, asset_id, limit, offset,
                                 mine))


async def get_link(pool: asyncpg.Pool, user_id: int, sees_all: bool,
                   link_id: str) -> asyncpg.Record | None:
    return await pool.fetchrow(GET_VISIBLE, user_id, sees_all, link_id)  # type: ignore[no-any-return]


async def revoke_link(pool: asyncpg.Pool, user_id: int, sees_all: bool, link_id: str) -> bool:
    """Revoke a link ``user_id`` may see (a second revocation keeps the first time)."""
    return await pool.fetchval(REVOKE_VISIBLE, user_id, sees_all, link_id) is not None


async def erase_recipient(pool: asyncpg.Pool, email: str, creator_id: int | None) -> int:
    """Clear the recipient of every link sent to ``email`` (of ``creator_id``'s links only,
    unless None); returns how many links."""
    status = await pool.execute(ERASE, email, creator_id)
    return int(status.split()[-1])


async def links_of_asset(pool: asyncpg.Pool, asset_id: str) -> list[asyncpg.Record]:
    """Every link of the asset with its creator: for the aggregates everyone may see."""
    return list(await pool.fetch(OF_ASSET, asset_id))


async def links_by_asset(pool: asyncpg.Pool) -> dict[str, list[str]]:
    """The ids of every live asset's share links, by asset."""
    return {r["asset_id"]: list(r["link_ids"]) for r in await pool.fetch(LINKS_BY_ASSET)}


async def visible_creators(pool: asyncpg.Pool, user_id: int) -> frozenset[int]:
    """The user and the reps they manage: whose links' visits they may follow live."""
    return frozenset(r["id"] for r in await pool.fetch(VISIBLE_CREATORS, user_id))


async def set_manager(pool: asyncpg.Pool, user_id: int,
                      manager_id: int | None) -> asyncpg.Record | None | str:
    """Make ``manager_id`` the user's manager (None: no manager): the row, None for no such
    user, or why the manager cannot be one."""
    if manager_id is not None:
        if manager_id == user_id:
            return "a user cannot be their own manager"
        row = await pool.fetchrow(MANAGER_CANDIDATE, manager_id)
        if row is None or row["deactivated_at"] is not None:
            return f"no active user {manager_id}"
        if row["role"] not in ("manager", "admin"):
            return f"user {manager_id} is {row['role']}; a manager must be a manager or admin"
    return await pool.fetchrow(SET_MANAGER, user_id, manager_id)  # type: ignore[no-any-return]


async def fetch_alert_preferences(pool: asyncpg.Pool, user_id: int) -> dict[str, Any]:
    """The user's settings, or the defaults when they never saved any."""
    row = await pool.fetchrow(SELECT_PREFERENCES, user_id)
    return dict(row) if row else AlertPreferencesIn().model_dump()


async def save_alert_preferences(pool: asyncpg.Pool, user_id: int,
                                 body: AlertPreferencesIn) -> None:
    await pool.execute(UPSERT_PREFERENCES, user_id, *(getattr(body, n) for n in _PREFERENCES))
