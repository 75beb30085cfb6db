"""SQL of the scoreboard pages themselves (the scores come from the board API)."""

from __future__ import annotations

import asyncpg

__all__ = ["list_owners"]

OWNERS = "SELECT DISTINCT owner_email FROM assets ORDER BY owner_email"


async def list_owners(pool: asyncpg.Pool) -> list[str]:
    """Every asset owner, for the board's owner filter."""
    return [r["owner_email"] for r in await pool.fetch(OWNERS)]
