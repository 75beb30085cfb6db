"""What the root conftest's infrastructure fixtures are built from: the DSNs of the
session's PostgreSQL and broker, and whether a Docker engine answers."""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["TEMPLATE_DB", "TEST_LINK_BURST_WINDOW_SECONDS", "TEST_SESSION_TIMEOUT_MS", "Infra",
           "docker_engine_running"]

#: The migrated database each test's database is cloned from: one per pytest-xdist worker,
#: as workers may share one external server (TEST_DATABASE_URL) and each recreates its own.
TEMPLATE_DB = f"glassboard_test_template_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
#: Consumer-group session of every test stack: tansu makes a joining member wait half of it
#: (1 s here, 5 s at the 10 s default), and tests join groups hundreds of times.
TEST_SESSION_TIMEOUT_MS = 2000
#: The burst rule's window in tests (links to 3 assets within it are a scanner's).
TEST_LINK_BURST_WINDOW_SECONDS = 1.0


@dataclass(frozen=True)
class Infra:
    admin_dsn: str  # a DSN whose user may CREATE DATABASE
    bootstrap_servers: str

    def dsn_for(self, database: str) -> str:
        base, _, query = self.admin_dsn.partition("?")
        base = base.rsplit("/", 1)[0]
        return f"{base}/{database}" + (f"?{query}" if query else "")


def docker_engine_running() -> bool:
    try:
        import docker  # type: ignore[import-untyped]

        return bool(docker.from_env().ping())
    except Exception:  # noqa: BLE001 - no client, no socket, no engine: all mean "no"
        return False
