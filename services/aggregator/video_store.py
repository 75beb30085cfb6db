"""The aggregator's SQL on ``video_plays``, inside apply_events' transaction: only new play
and watch events fold (the events table de-duplicates them), so a redelivered slice never
adds its time twice; its bits would not matter (OR), its media_ms would.

The rules are pure, in video.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from shared.events import EventEnvelope

from .video import fold_plays, hex_of

__all__ = ["UPSERT_PLAYS", "apply_video_plays"]

# A slice may land before its play (another batch, or a relay's reorder): either makes the
# row, the other folds in; the day follows the earliest event. A slice that names another
# asset's play changes nothing (the WHERE). Bits travel as 25 hex digits: 100 bits do not
# fit in a bigint.
UPSERT_PLAYS = """
INSERT INTO video_plays (play_id, asset_id, view_id, day, device_class, started_at,
                         duration_ms, watched_ms, watched)
SELECT p.play_id, p.asset_id, p.view_id, p.day, p.device_class, p.started_at,
       p.duration_ms, p.watched_ms, ('x' || p.watched)::bit(100)
FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::date[], $5::text[], $6::timestamptz[],
            $7::int[], $8::bigint[], $9::text[])
     AS p(play_id, asset_id, view_id, day, device_class, started_at, duration_ms,
          watched_ms, watched)
ON CONFLICT (play_id) DO UPDATE SET
    view_id = coalesce(video_plays.view_id, excluded.view_id),
    day = CASE WHEN excluded.started_at < video_plays.started_at THEN excluded.day
               ELSE video_plays.day END,
    started_at = least(video_plays.started_at, excluded.started_at),
    duration_ms = greatest(video_plays.duration_ms, excluded.duration_ms),
    watched_ms = video_plays.watched_ms + excluded.watched_ms,
    watched = video_plays.watched | excluded.watched
WHERE video_plays.asset_id = excluded.asset_id
"""


async def apply_video_plays(conn: asyncpg.Connection, new_events: Sequence[EventEnvelope]) -> None:
    """Fold the batch's new play and watch events into their plays: one statement, and one
    more for each further asset a play was named with (never, but for forged slices)."""
    for folds in fold_plays(new_events):
        rows = [(f.play_id, f.asset_id, f.view_id, f.day, f.device_class, f.started_at,
                 f.duration_ms, f.watched_ms, hex_of(f.watched)) for f in folds]
        await conn.execute(UPSERT_PLAYS, *[[row[i] for row in rows] for i in range(9)])
