"""Small probes of a test's database: one connection per call, closed at once."""

from __future__ import annotations

from typing import Any

import asyncpg

from devtools.settings import StackSettings

__all__ = ["event_rows", "fetch", "fetchval", "refuse_rows", "views"]


async def fetch(settings: StackSettings, sql: str, *args: Any) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(settings.database_url)
    try:
        return [dict(r) for r in await conn.fetch(sql, *args)]
    finally:
        await conn.close()


async def fetchval(settings: StackSettings, sql: str, *args: Any) -> Any:
    conn = await asyncpg.connect(settings.database_url)
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


async def event_rows(settings: StackSettings) -> int:
    """Rows in ``events``: how many distinct events the aggregator applied."""
    return int(await fetchval(settings, "SELECT count(*) FROM events"))


async def views(settings: StackSettings, asset: str) -> int:
    """Counted views of ``asset``, all days and devices, straight from ``usage_daily``."""
    return int(await fetchval(
        settings, "SELECT coalesce(sum(views), 0) FROM usage_daily WHERE asset_id = $1 "
                  "AND device_class = 'all'", asset))


async def refuse_rows(settings: StackSettings, table: str, column: str, message: str) -> None:
    """Make PostgreSQL refuse any row of ``table`` whose ``column`` is 'poison' (SQLSTATE
    22000, a data error): a stand-in for any value it refuses although it passed validation."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.execute(f"""
            CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.{column} = 'poison' THEN
                    RAISE EXCEPTION '{message}' USING ERRCODE = '22000';
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER refuse_poison BEFORE INSERT ON {table}
            FOR EACH ROW EXECUTE FUNCTION refuse_poison();""")
    finally:
        await conn.close()
