"""Recompute content scores after a batch and keep the latest state per asset.

Runs inside the batch's transaction, after its usage and rating writes. An advisory lock
serialises this step across aggregator processes, which gives two guarantees:
- each recomputation reads the other processes' committed batches, so peers compare on
  the same figures;
- revisions come from one sequence in commit order, so "revision > N" never skips a state
  (the score streams resume on that).

Which assets get a new state: every asset the batch touched (even when nothing changed, so
a replay is visible), and every peer whose score, previous score or trend moved because of
it (see ``_stored_headline``) and whose state is older than ``PEER_REFRESH_SECONDS``. In a
catalog of near-equal assets every hit reshuffles the percentile ranks of all its peers;
without that pause each batch re-sent the whole type (bench/). A peer's published score
may so lag by up to that long; a touched asset's never does. Peers are the assets
of the touched types; a batch that changed ratings rescoring the whole catalog, because
the Bayesian prior is the catalog-wide mean.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg

from shared.scores import AssetScoreUpdate, WindowScore

from .content import (
    CURRENT,
    PREVIOUS,
    PeriodKey,
    PeriodUsage,
    ScoredWindow,
    window_bounds,
    window_scores,
)
from .reads.ratings import asset_states, peer_types, rating_sums
from .usage import rating_summary

__all__ = ["ScoreContext", "refresh_scores"]

#: Any constant works; it only has to be the same in every aggregator.
SCORE_LOCK_KEY = 0x61_73_73_65  # "asse"

LOCK = "SELECT pg_advisory_xact_lock($1)"

# One row per asset and window; the previous period is [previous_from, current_from).
SELECT_USAGE_SUMS = """
SELECT p.id AS asset_id, w.name AS score_window,
       coalesce(sum(u.views) FILTER (WHERE u.day >= w.current_from), 0)::bigint AS views,
       coalesce(sum(u.unique_viewers) FILTER (WHERE u.day >= w.current_from), 0)::bigint AS viewer_days,
       coalesce(sum(u.downloads) FILTER (WHERE u.day >= w.current_from), 0)::bigint AS downloads,
       coalesce(sum(u.engaged_ms) FILTER (WHERE u.day >= w.current_from), 0)::bigint AS engaged_ms,
       coalesce(sum(u.views) FILTER (WHERE u.day < w.current_from), 0)::bigint AS prev_views,
       coalesce(sum(u.unique_viewers) FILTER (WHERE u.day < w.current_from), 0)::bigint AS prev_viewer_days,
       coalesce(sum(u.downloads) FILTER (WHERE u.day < w.current_from), 0)::bigint AS prev_downloads,
       coalesce(sum(u.engaged_ms) FILTER (WHERE u.day < w.current_from), 0)::bigint AS prev_engaged_ms
FROM unnest($1::text[]) AS p(id)
CROSS JOIN unnest($2::text[], $3::date[], $4::date[]) AS w(name, current_from, previous_from)
JOIN usage_daily u ON u.asset_id = p.id AND u.device_class = 'all'
                  AND u.day >= w.previous_from AND u.day <= $5
GROUP BY p.id, w.name
"""

#: Peers whose stored state is younger than this are not republished yet (see below).
PEER_REFRESH_SECONDS = 5.0

SELECT_STORED_SCORES = """
SELECT asset_id, message -> 'scores' AS scores,
       updated_at > now() - make_interval(secs => $2) AS recent
FROM asset_score_state
WHERE asset_id = any($1::text[])
"""

#: Views per seven-day period, 0 = today and the six days before, up to 4 = a month ago.
SELECT_WEEKLY_VIEWS = """
SELECT asset_id, ($2::date - day) / 7 AS weeks_ago, sum(views)::bigint AS views
FROM usage_daily
WHERE asset_id = any($1::text[]) AND device_class = 'all'
  AND day > $2::date - 35 AND day <= $2::date
GROUP BY asset_id, weeks_ago
"""
WEEKS = 5

NEXT_REVISIONS = "SELECT nextval('score_revisions') AS revision FROM generate_series(1, $1)"

UPSERT_STATES = """
INSERT INTO asset_score_state (asset_id, revision, message, updated_at)
SELECT *, now() FROM unnest($1::text[], $2::bigint[], $3::text[]::jsonb[])
ON CONFLICT (asset_id) DO UPDATE SET
    revision = excluded.revision, message = excluded.message, updated_at = now()
"""


@dataclass(frozen=True)
class ScoreContext:
    """What a recomputation needs beside the database: the day, and the prior's weight."""

    today: date
    prior_weight: float
    #: Rescore every asset (the first batch of a day: windows moved on overnight).
    whole_catalog: bool = False
    #: Peers published more recently than this wait for the peer sweep (peer_sweep.py).
    peer_pause_seconds: float = PEER_REFRESH_SECONDS


async def refresh_scores(
    conn: asyncpg.Connection, touched: Sequence[str], rerated: Sequence[str], ctx: ScoreContext
) -> list[AssetScoreUpdate]:
    """New states for the touched assets and the peers whose scores moved; stored, and
    returned for publishing once the transaction commits."""
    if not touched and not ctx.whole_catalog:
        return []
    await conn.execute(LOCK, SCORE_LOCK_KEY)
    everything = ctx.whole_catalog or bool(rerated)
    asset_types = await peer_types(conn, everything, touched)
    scores = await _compute(conn, asset_types, ctx)
    stored = {r["asset_id"]: r for r in await conn.fetch(
        SELECT_STORED_SCORES, sorted(asset_types), ctx.peer_pause_seconds)}
    changed = {
        asset_id for asset_id, windows in scores.items()
        if (asset_id not in stored or not stored[asset_id]["recent"])
        and _stored_headline(stored[asset_id]["scores"] if asset_id in stored else {}) != {
            w: s.headline for w, s in windows.items()}
    }
    to_publish = sorted(set(touched) | changed)
    if not to_publish:
        return []
    rows = await asset_states(conn, to_publish)
    weekly: dict[str, list[int]] = {asset_id: [0] * WEEKS for asset_id in to_publish}
    for r in await conn.fetch(SELECT_WEEKLY_VIEWS, to_publish, ctx.today):
        weekly[r["asset_id"]][r["weeks_ago"]] = r["views"]
    revisions = [r["revision"] for r in await conn.fetch(NEXT_REVISIONS, len(rows))]
    updates = [
        _state(row, revision,
               {w: s.model() for w, s in scores.get(row["asset_id"], {}).items()},
               weekly[row["asset_id"]])
        for row, revision in zip(rows, revisions)
    ]
    await conn.execute(
        UPSERT_STATES,
        [u.asset_id for u in updates],
        [u.revision for u in updates],
        [u.model_dump_json() for u in updates],
    )
    return updates


async def _compute(
    conn: asyncpg.Connection, asset_types: dict[str, str], ctx: ScoreContext
) -> dict[str, dict[str, ScoredWindow]]:
    bounds = window_bounds(ctx.today)
    names = sorted(bounds)
    starts = [bounds[n].current_from for n in names]
    previous_starts = [bounds[n].previous_from for n in names]
    usage: dict[PeriodKey, PeriodUsage] = {}
    for r in await conn.fetch(SELECT_USAGE_SUMS, sorted(asset_types), names, starts,
                              previous_starts, ctx.today):
        key = (r["asset_id"], r["score_window"])
        usage[(*key, CURRENT)] = PeriodUsage(r["views"], r["viewer_days"], r["downloads"],
                                             r["engaged_ms"])
        usage[(*key, PREVIOUS)] = PeriodUsage(r["prev_views"], r["prev_viewer_days"],
                                              r["prev_downloads"], r["prev_engaged_ms"])
    ratings: dict[PeriodKey, dict[int, int]] = {}
    for r in await rating_sums(conn, names, starts, previous_starts, ctx.today):
        period = CURRENT if r["is_current"] else PREVIOUS
        ratings.setdefault((r["asset_id"], r["score_window"], period), {})[r["stars"]] = r["ratings"]
    return window_scores(asset_types, usage, ratings, bounds, ctx.prior_weight)


def _stored_headline(scores: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    """What makes a peer worth a new state: its score, previous score or trend per window.

    A hit on one asset moves every same-type peer's percentile a little; republishing
    them all on each batch multiplied the messages by the catalog size (bench/). A peer's
    stored percentiles may therefore lag until its own score moves or it is touched.
    """
    return {w: (s.get("score"), s.get("previous_score"), s.get("trend"))
            for w, s in scores.items()}


def _state(row: asyncpg.Record, revision: int, scores: dict[str, WindowScore],
           weekly_views: list[int]) -> AssetScoreUpdate:
    totals: dict[str, Any] = (
        {k: row[k] for k in ("views", "unique_viewers", "downloads", "engaged_ms", "wall_ms")}
        if row["views"] is not None else {}
    )
    return AssetScoreUpdate(
        asset_id=row["asset_id"],
        revision=revision,
        title=row["title"],
        asset_type=row["type"],
        stage=row["stage"],
        owner_email=row["owner_email"],
        totals=totals,  # type: ignore[arg-type]
        last_event_at=row["last_event_at"],
        updated_at=row["updated_at"],
        ratings=rating_summary({stars: row[f"s{stars}"] for stars in range(1, 6)}),
        scores=scores,
        weekly_views=weekly_views,
    )
