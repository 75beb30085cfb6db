"""Catch-up rescoring of peers the batches left for later.

A batch republishes a same-type peer whose score moved only if the peer's state is older
than ``PEER_REFRESH_SECONDS`` (score_state.py). When traffic stops right after such a
deferral, no later batch would pick the peer up, so every ``PEER_REFRESH_SECONDS`` after
a batch this sweep rescores the catalog with nothing touched: it publishes exactly the
deferred peers whose scores are still off.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import asyncpg

from shared.periodic import Periodic
from shared.scores import AssetScoreUpdate

from .score_state import PEER_REFRESH_SECONDS, ScoreContext, refresh_scores

__all__ = ["PeerSweeper"]

Publish = Callable[[Sequence[AssetScoreUpdate]], Awaitable[None]]


class PeerSweeper(Periodic):
    def __init__(self, pool: asyncpg.Pool, context: Callable[[], ScoreContext],
                 publish: Publish, interval: float = PEER_REFRESH_SECONDS) -> None:
        super().__init__("peer-sweep", interval, self._sweep_after_batches)
        self._pool = pool
        self._context = context
        self._publish = publish
        self._batches_since_sweep = False

    def note_batch(self) -> None:
        self._batches_since_sweep = True

    async def sweep(self) -> list[AssetScoreUpdate]:
        ctx = self._context()
        # No pause here: this sweep is the pause's other half, and runs at most this often.
        whole = ScoreContext(ctx.today, ctx.prior_weight, whole_catalog=True,
                             peer_pause_seconds=0.0)
        async with self._pool.acquire() as conn, conn.transaction():
            updates = await refresh_scores(conn, [], [], whole)
        if updates:
            await self._publish(updates)
        return updates

    async def _sweep_after_batches(self) -> None:
        if self._batches_since_sweep:
            # A failed sweep leaves the scores right in the database; the next batch or
            # sweep publishes them.
            self._batches_since_sweep = False
            await self.sweep()
