"""The migration runner and the settings' safety rules."""

from __future__ import annotations

import asyncpg
import pytest
from pydantic import ValidationError

from shared.migrate import apply_migrations, load_migrations
from shared.settings import Settings


async def test_migrations_apply_once_and_record_their_checksums(settings: Settings) -> None:
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


def test_production_refuses_the_development_secret() -> None:
    with pytest.raises(ValidationError, match="GLASSBOARD_SIGNING_SECRET"):
        Settings(env="production")
    assert Settings(env="production", signing_secret="a-real-secret").env == "production"
