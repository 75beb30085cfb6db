"""Services as real child processes (``python -m services.cli …``), for the tests that
signal or kill them: SIGTERM must be handled by the service itself, not by pytest."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

import httpx

from devtools.settings import StackSettings
from shared.embedded import free_port

__all__ = ["ServiceProcess", "service_env"]


def service_env(settings: StackSettings, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "KAFKA_TOPIC_PREFIX": settings.topic_prefix,
        "INGEST_PORT": str(settings.ingest_port),
        "RATINGS_PORT": str(settings.ratings_port),
        "CATALOG_REFRESH_SECONDS": "0.5",
        "KAFKA_SESSION_TIMEOUT_MS": str(settings.kafka_session_timeout_ms),
        "LINK_BURST_WINDOW_SECONDS": str(settings.link_burst_window_seconds),
        "LINK_HOLD_MARGIN_SECONDS": str(settings.link_hold_margin_seconds),
        "LOG_LEVEL": "WARNING",
        **extra,
    }


@dataclass
class ServiceProcess:
    name: str
    settings: StackSettings
    metrics_port: int = field(default_factory=free_port)
    extra_env: dict[str, str] = field(default_factory=dict)
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> ServiceProcess:
        env = service_env(self.settings, METRICS_PORT=str(self.metrics_port), **self.extra_env)
        self.popen = subprocess.Popen([sys.executable, "-m", "services.cli", self.name], env=env)
        return self

    @property
    def ops_url(self) -> str:
        port = {"ingest": self.settings.ingest_port,
                "ratings": self.settings.ratings_port}.get(self.name, self.metrics_port)
        return f"http://127.0.0.1:{port}"

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.popen is not None and self.popen.poll() is None, f"{self.name} exited"
            try:
                if httpx.get(f"{self.ops_url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} not ready in {timeout}s")

    def terminate(self) -> tuple[int, float]:
        """SIGTERM; returns (exit code, seconds it took to exit)."""
        assert self.popen is not None
        started = time.monotonic()
        self.popen.send_signal(signal.SIGTERM)
        code = self.popen.wait(30)
        return code, time.monotonic() - started

    def kill(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(10)
