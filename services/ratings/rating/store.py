"""SQL of ratings, the rating outbox and applied rating commands (tables ratings owns).

Individual ratings are owned by this service alone: one per rater and asset. Every change
is written together with its event in a transactional outbox, so the event is published if
and only if the change committed. The event carries the value it replaces, so the
aggregator updates counts and histograms exactly, reading nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

import asyncpg

from shared.events import EventEnvelope, Source

from ..catalog.store import asset_snapshot
from .models import RatingChange

__all__ = [
    "add_comment",
    "apply_rating",
    "asset_owner",
    "claim_pending",
    "current_stars",
    "fetch_recent_ratings",
    "mark_published",
    "rater_key",
    "user_exists",
    "withdraw_all",
]

SELECT_FOR_UPDATE = """
SELECT stars, rated_at FROM ratings WHERE asset_id = $1 AND user_id = $2 FOR UPDATE
"""
UPSERT_RATING = """
INSERT INTO ratings (asset_id, user_id, stars, comment, context, rated_at)
VALUES ($1, $2, $3, $4, $5::text::jsonb, $6)
ON CONFLICT (asset_id, user_id) DO UPDATE SET
    stars = excluded.stars, comment = excluded.comment, context = excluded.context,
    rated_at = excluded.rated_at
"""
UPDATE_COMMENT = "UPDATE ratings SET comment = $3 WHERE asset_id = $1 AND user_id = $2"
DELETE_RATING = "DELETE FROM ratings WHERE asset_id = $1 AND user_id = $2"
# ``$n::text::jsonb`` binds JSON text whatever codecs the connection has registered.
INSERT_OUTBOX = "INSERT INTO rating_outbox (event) VALUES ($1::text::jsonb)"
RECORD_COMMAND = """
INSERT INTO rating_commands_applied (command_id) VALUES ($1)
ON CONFLICT DO NOTHING RETURNING command_id
"""

# A rating may only be given to an asset that is not deleted. The lock (the one the
# ratings foreign key takes anyway) waits for a deletion in progress, which holds the row
# FOR UPDATE (catalog/store.py), and then sees it deleted: no rating slips in after the
# deletion withdrew them all, and one taken first is among those it withdraws.
LIVE_ASSET = "SELECT true FROM assets WHERE id = $1 AND deleted_at IS NULL FOR KEY SHARE"
RATERS = "SELECT user_id FROM ratings WHERE asset_id = $1 ORDER BY user_id"

# What a one-tap rating command checks before it applies (its rules are in commands.py).
# Locked as LIVE_ASSET is, before the command locks its rating: every transaction takes the
# asset first and the rating second, as a deletion does, so none deadlocks with one.
SELECT_OWNER = "SELECT owner_id FROM assets WHERE id = $1 AND deleted_at IS NULL FOR KEY SHARE"
SELECT_USER = "SELECT true FROM users WHERE id = $1"
SELECT_STARS = "SELECT stars FROM ratings WHERE asset_id = $1 AND user_id = $2 FOR UPDATE"

CLAIM_PENDING = """
SELECT id, event FROM rating_outbox WHERE published_at IS NULL
ORDER BY id LIMIT 500 FOR UPDATE SKIP LOCKED
"""
MARK_PUBLISHED = "UPDATE rating_outbox SET published_at = now() WHERE id = any($1::bigint[])"

# The rater's role only: names and emails stay out, so people rate candidly.
RECENT_RATINGS = """
SELECT r.stars, r.comment, r.rated_at, u.role
FROM ratings r JOIN users u ON u.id = r.user_id
WHERE r.asset_id = $1
ORDER BY r.rated_at DESC, r.user_id DESC
LIMIT $2
"""
RATING_COUNT = "SELECT count(*) FROM ratings WHERE asset_id = $1"


def rater_key(user_id: int) -> str:
    """The actor id rating events carry: stable, and never an email address."""
    return f"user:{user_id}"


async def apply_rating(conn: asyncpg.Connection, change: RatingChange) -> EventEnvelope | None:
    """Apply one change inside the caller's transaction; returns the event written to the
    outbox, or None when nothing changed (withdrawing nothing, or a repeated command)."""
    if change.stars is not None and await conn.fetchval(LIVE_ASSET, change.asset_id) is None:
        return None  # deleted meanwhile: its ratings were withdrawn and stay so
    if change.command_id is not None:
        if await conn.fetchval(RECORD_COMMAND, change.command_id) is None:
            return None
    previous = await conn.fetchrow(SELECT_FOR_UPDATE, change.asset_id, change.user_id)
    if change.stars is None:
        if previous is None:
            return None
        await conn.execute(DELETE_RATING, change.asset_id, change.user_id)
    else:
        await conn.execute(UPSERT_RATING, change.asset_id, change.user_id, change.stars,
                           change.comment, json.dumps(change.context), change.at)
    event = EventEnvelope(
        type="rating",
        asset_id=change.asset_id,
        viewer_id=rater_key(change.user_id),
        occurred_at=change.at,
        received_at=change.at,
        source=change.source,
        stars=change.stars,
        previous_stars=previous["stars"] if previous else None,
        previous_rated_at=previous["rated_at"] if previous else None,
        has_comment=bool(change.comment),
    )
    await conn.execute(INSERT_OUTBOX, event.model_dump_json())
    return event


async def withdraw_all(conn: asyncpg.Connection, asset_id: str, at: datetime) -> int:
    """Withdraw every rating of the asset inside the caller's transaction (its deletion),
    each with its event in the outbox, so the aggregator takes each out of every count the
    way a rater's own withdrawal does; returns how many."""
    raters = [r["user_id"] for r in await conn.fetch(RATERS, asset_id)]
    for user_id in raters:
        await apply_rating(conn, RatingChange(asset_id=asset_id, user_id=user_id, stars=None,
                                              at=at, source=Source.API))
    return len(raters)


async def add_comment(conn: asyncpg.Connection, asset_id: str, user_id: int, comment: str) -> bool:
    """Attach a "why" to an existing rating without moving it (the one-tap thank-you page)."""
    return await conn.execute(UPDATE_COMMENT, asset_id, user_id, comment) != "UPDATE 0"


async def user_exists(conn: asyncpg.Connection, user_id: int) -> bool:
    return await conn.fetchval(SELECT_USER, user_id) is not None


async def asset_owner(conn: asyncpg.Connection, asset_id: str) -> asyncpg.Record | None:
    """The asset's ``owner_id`` row, or None when there is no such asset."""
    return await conn.fetchrow(SELECT_OWNER, asset_id)


async def current_stars(conn: asyncpg.Connection, asset_id: str, user_id: int) -> int | None:
    """The rater's stars on the asset, the row locked until the caller's transaction ends."""
    return await conn.fetchval(SELECT_STARS, asset_id, user_id)  # type: ignore[no-any-return]


async def claim_pending(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Up to 500 unpublished outbox rows in id order, locked (other relays skip them)."""
    return await conn.fetch(CLAIM_PENDING)  # type: ignore[no-any-return]


async def mark_published(conn: asyncpg.Connection, ids: Sequence[int]) -> None:
    await conn.execute(MARK_PUBLISHED, list(ids))


async def fetch_recent_ratings(
    pool: asyncpg.Pool, asset_id: str, limit: int
) -> tuple[list[asyncpg.Record], int] | None:
    """The latest ``limit`` ratings and how many there are in all; None for no such asset."""
    async with asset_snapshot(pool, asset_id) as conn:
        if conn is None:
            return None
        return await conn.fetch(RECENT_RATINGS, asset_id, limit), await conn.fetchval(
            RATING_COUNT, asset_id)
