"""Child processes (servers, the aggregator): start, wait until ready, read CPU, stop.

Servers run in their own processes so that the load generator never shares a core's
event loop with what it measures, and so that their CPU time can be read from /proc.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .cpu import cpu_seconds

__all__ = ["Child", "Children"]

_REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Child:
    """One ``python -m bench.serve KIND`` process, its output kept in a log file."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def cpu_seconds(self) -> float | None:
        return cpu_seconds(self.pid)

    def check_alive(self) -> None:
        if self.popen.poll() is not None:
            raise RuntimeError(
                f"{self.name} exited with {self.popen.returncode}:\n{self.tail()}"
            )

    def tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (graceful: uvicorn and the aggregator finish cleanly), then SIGKILL."""
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()

    async def wait_for_port(self, port: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                return
            await asyncio.sleep(0.05)
        raise TimeoutError(f"{self.name} did not listen on {port} within {timeout}s")

    async def wait_for_file(self, path: Path, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not path.exists():
            self.check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} was not ready within {timeout}s")
            await asyncio.sleep(0.05)


@dataclass
class Children:
    """Every child this run started, so that one ``stop_all`` in a ``finally`` ends them."""

    log_dir: Path
    running: list[Child] = field(default_factory=list)

    def start(self, name: str, kind: str, env: dict[str, str]) -> Child:
        log_path = self.log_dir / f"{name}.log"
        with open(log_path, "wb") as log_file:
            popen = subprocess.Popen(
                [sys.executable, "-m", "bench.serve", kind],
                cwd=_REPO_ROOT,
                env={**env, "PYTHONPATH": _pythonpath(env)},
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches us only; we stop it in order
            )
        child = Child(name, popen, log_path)
        self.running.append(child)
        return child

    def stop(self, child: Child) -> None:
        child.stop()
        with contextlib.suppress(ValueError):
            self.running.remove(child)

    def stop_all(self) -> None:
        while self.running:
            self.running.pop().stop()


def _pythonpath(env: dict[str, str]) -> str:
    existing = env.get("PYTHONPATH")
    return f"{_REPO_ROOT}{os.pathsep}{existing}" if existing else str(_REPO_ROOT)
