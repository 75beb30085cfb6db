"""Every table states its owner; a service writes only its own tables and reads others' only
through services/<svc>/reads/<owner>.py.

Runs on a database migrated from shared/migrations (the ``settings`` fixture): the owners
are the COMMENT ON TABLE of migrations 0005 and 0006.
"""

from __future__ import annotations

import re

import asyncpg

from devtools.settings import StackSettings
from harness.paths import ROOT

SERVICES = ("ingest", "ratings", "aggregator", "notifier")
OWNER = re.compile(r"^owner: (\w+)")
#: What follows ``FOR UPDATE`` / ``DO UPDATE`` (SKIP, SET) is no table, so it never matches one.
WRITE = re.compile(r"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+([a-z_]+)\b")
READ = re.compile(r"\b(?:FROM|JOIN)\s+([a-z_]+)\b")


async def _owners(settings: StackSettings) -> dict[str, str | None]:
    conn = await asyncpg.connect(settings.database_url)
    try:
        rows = await conn.fetch(
            """SELECT c.relname, obj_description(c.oid, 'pg_class') AS comment
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = 'public' AND c.relkind = 'r'
                 AND c.relname <> 'schema_migrations'"""
        )
    finally:
        await conn.close()
    return {
        r["relname"]: (m.group(1) if (m := OWNER.match(r["comment"] or "")) else None)
        for r in rows
    }


async def test_every_table_names_one_owning_service(settings: StackSettings) -> None:
    owners = await _owners(settings)
    assert {t for t, o in owners.items() if o not in SERVICES} == set()


async def test_no_service_writes_a_table_it_does_not_own(settings: StackSettings) -> None:
    owners = await _owners(settings)
    foreign = set()
    for service in SERVICES:
        for path in sorted((ROOT / "services" / service).rglob("*.py")):
            for table in WRITE.findall(path.read_text(encoding="utf-8")):
                if table in owners and owners[table] != service:
                    foreign.add((str(path.relative_to(ROOT)), table, owners[table]))
    assert foreign == set()


async def test_a_service_reads_another_owners_tables_only_in_its_reads_module(
    settings: StackSettings,
) -> None:
    owners = await _owners(settings)
    stray = set()
    for service in SERVICES:
        folder = ROOT / "services" / service
        for path in sorted(folder.rglob("*.py")):
            for table in READ.findall(path.read_text(encoding="utf-8")):
                owner = owners.get(table)
                if owner is not None and owner != service and path != folder / "reads" / f"{owner}.py":
                    stray.add((str(path.relative_to(ROOT)), table, owner))
    assert stray == set()
