"""Individual ratings, owned by this service alone: one per rater and asset.

Every change is written together with its event in a transactional outbox, so the event
is published if and only if the change committed. The event carries the value it
replaces, so the aggregator updates counts and histograms exactly, reading nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from shared.events import EventEnvelope, Source

__all__ = ["RatingChange", "apply_rating", "rater_key"]

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


def rater_key(user_id: int) -> str:
    """The actor id rating events carry: stable, and never an email address."""
    return f"user:{user_id}"


@dataclass(frozen=True)
class RatingChange:
    asset_id: str
    user_id: int
    stars: int | None  # None withdraws the rating
    at: datetime
    source: Source
    comment: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    command_id: UUID | None = None


async def apply_rating(conn: asyncpg.Connection, change: RatingChange) -> EventEnvelope | None:
    """Apply one change inside the caller's transaction; returns the event written to the
    outbox, or None when nothing changed (withdrawing nothing, or a repeated command)."""
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


async def add_comment(conn: asyncpg.Connection, asset_id: str, user_id: int, comment: str) -> bool:
    """Attach a "why" to an existing rating without moving it (the one-tap thank-you page)."""
    return await conn.execute(UPDATE_COMMENT, asset_id, user_id, comment) != "UPDATE 0"
