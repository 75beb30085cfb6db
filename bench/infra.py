"""PostgreSQL and Kafka for one bench run, and a clean database and topic set per phase.

Phases never share state: ingest's pixel traffic must not land in the aggregator's topic,
and the aggregator's finish line (``count(*) FROM events``) needs an empty table. A
migrated template database is cloned per phase, which is faster than migrating each.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import SecretStr

from devtools.settings import StackSettings
from shared.alert_rules import rule_variables
from shared.embedded import EmbeddedBroker, EmbeddedPostgres, free_port
from shared.kafka import create_topics
from shared.migrate import apply_migrations

__all__ = ["UNLIMITED", "Infra", "infrastructure", "seed_assets", "settings_env"]


@dataclass
class Infra:
    """Where PostgreSQL and Kafka are, and what this run created there (to remove it)."""

    admin_dsn: str
    bootstrap_servers: str
    workdir: Path
    description: str
    broker_pid: int | None = None
    postgres_data_dir: Path | None = None  # only when embedded: for CPU accounting
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    _databases: list[str] = field(default_factory=list)
    _topics: list[str] = field(default_factory=list)
    _template: str | None = None

    def dsn_for(self, database: str) -> str:
        base, _, query = self.admin_dsn.partition("?")
        base = base.rsplit("/", 1)[0]
        return f"{base}/{database}" + (f"?{query}" if query else "")

    async def _admin(self, sql: str) -> None:
        conn = await asyncpg.connect(self.admin_dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def _template_db(self) -> str:
        if self._template is None:
            name = f"bench_{self.run_id}_template"
            await self._admin(f'CREATE DATABASE "{name}"')
            self._databases.append(name)
            await apply_migrations(self.dsn_for(name))
            self._template = name
        return self._template

    async def stack(self, phase: str, assets: Sequence[str]) -> StackSettings:
        """A migrated database holding ``assets``, its own topics, and settings naming both."""
        template = await self._template_db()
        name = f"bench_{self.run_id}_{phase}"
        await self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        self._databases.append(name)
        settings = StackSettings(
            database_url=self.dsn_for(name),
            kafka_bootstrap_servers=self.bootstrap_servers,
            topic_prefix=f"bench-{self.run_id}-{phase}.",
            ingest_port=free_port(),
            log_level="WARNING",
        )
        await create_topics(self.bootstrap_servers, settings.topics.all)
        self._topics.extend(spec.name for spec in settings.topics.all)
        await seed_assets(settings.database_url, assets)
        return settings

    def remember_topic(self, name: str) -> None:
        self._topics.append(name)

    async def cleanup(self) -> None:
        """Drop what this run created; matters only on a shared, external cluster."""
        for name in reversed(self._databases):
            with contextlib.suppress(Exception):
                await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._databases.clear()
        if self.broker_pid is None and self._topics:
            admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap_servers)
            with contextlib.suppress(Exception):
                await admin.start()
                await admin.delete_topics(self._topics)
            with contextlib.suppress(Exception):
                await admin.close()
        self._topics.clear()


async def seed_assets(dsn: str, assets: Sequence[str]) -> None:
    """Insert catalog rows: ingest and the aggregator count only known assets."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.copy_records_to_table(
            "assets",
            records=[
                (a, a.replace("-", " ").title(), "product_sheet",
                 f"https://cdn.example.com/{a}.pdf", "owner@example.com")
                for a in assets
            ],
            columns=["id", "title", "type", "url", "owner_email"],
        )
    finally:
        await conn.close()


#: Rate limits far above what one bench client sends: ingest's defaults are sized for the
#: people behind one office NAT, and the bench is one client measuring the work, not the limits.
UNLIMITED = {
    "INGEST_RATE_LIMIT_PIXEL": "10000000/second",
    "INGEST_RATE_LIMIT_BEACON": "10000000/second",
    "INGEST_RATE_LIMIT_API_KEY": "10000000/second",
    "INGEST_RATE_LIMIT_ASSET": "10000000/second",
}


def settings_env(settings: StackSettings) -> dict[str, str]:
    """The environment a child process needs to rebuild ``settings`` with ``StackSettings()``,
    with ingest's rate limits out of the way (:data:`UNLIMITED`)."""
    env = dict(os.environ)
    env.update({k: str(v) for k, v in rule_variables(settings.alert_rules).items()})
    for name, info in StackSettings.model_fields.items():
        value = getattr(settings, name)
        if name == "alert_rules":
            continue  # as the ALERT_* variables above
        if value is None:
            continue  # unset: the child's default is None too ("None" would not parse)
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        env[info.alias or name.upper()] = str(value)
    env.update(UNLIMITED)
    return env


@contextlib.contextmanager
def infrastructure() -> Iterator[Infra]:
    """Embedded PostgreSQL and tansu unless DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS say
    where real ones are; everything started here is stopped on the way out."""
    workdir = Path(tempfile.mkdtemp(prefix="glassboard-bench-"))
    broker: EmbeddedBroker | None = None
    postgres: EmbeddedPostgres | None = None
    try:
        bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        kafka_text = f"Kafka at {bootstrap}"
        if not bootstrap:
            broker = EmbeddedBroker().start()
            bootstrap = broker.bootstrap_servers
            kafka_text = "tansu broker (memory storage)"
        admin_dsn = os.environ.get("DATABASE_URL")
        pg_text = "PostgreSQL from DATABASE_URL"
        if not admin_dsn:
            postgres = EmbeddedPostgres(workdir / "pg" / "data", delete_on_stop=True).start()
            admin_dsn = postgres.admin_dsn
            pg_text = "embedded PostgreSQL"
        yield Infra(
            admin_dsn=admin_dsn,
            bootstrap_servers=bootstrap,
            workdir=workdir,
            description=f"{pg_text}, {kafka_text}",
            broker_pid=broker.process.pid if broker and broker.process else None,
            postgres_data_dir=postgres.data_dir if postgres else None,
        )
    finally:
        if broker is not None:
            broker.stop()
        if postgres is not None:
            postgres.stop()
        shutil.rmtree(workdir, ignore_errors=True)
