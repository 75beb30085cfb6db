"""The migration runner on a real PostgreSQL."""

from __future__ import annotations

import asyncpg
import pytest

from devtools.settings import StackSettings
from shared.migrate import apply_migrations, load_migrations


async def test_migrations_apply_once_and_record_their_checksums(settings: StackSettings) -> None:
    # The per-test database is a clone of a migrated template: nothing is pending.
    assert await apply_migrations(settings.database_url) == []
    conn = await asyncpg.connect(settings.database_url)
    try:
        rows = await conn.fetch("SELECT version, checksum FROM schema_migrations ORDER BY version")
        assert [(r["version"], r["checksum"]) for r in rows] == [
            (m.version, m.checksum) for m in load_migrations()
        ]
        await conn.execute("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1")
    finally:
        await conn.close()
    with pytest.raises(RuntimeError, match="changed after it was applied"):
        await apply_migrations(settings.database_url)
