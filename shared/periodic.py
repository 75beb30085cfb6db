"""The background loops the services keep beside their consumers and HTTP handlers.

``Periodic`` runs a step on a clock: catch-up sweeps, polls and metric reports.
``Drain`` empties a table of pending work: the rating outbox relay and the alert delivery
worker. It runs its step again at once while the step finds work, and otherwise sleeps
until nudged or polled. Both are started and stopped the same way (``BackgroundLoop``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Protocol

__all__ = ["BackgroundLoop", "Drain", "Periodic", "stop_all"]

log = logging.getLogger(__name__)


class BackgroundLoop(ABC):
    """One named asyncio task, started once and cancelled on stop."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    @abstractmethod
    async def _run(self) -> None:
        """The loop itself; it runs until cancelled."""


class Periodic(BackgroundLoop):
    """Runs ``step`` every ``interval`` seconds. A step that raises is logged and tried
    again at the next tick: these steps repair or report, so missing one loses nothing."""

    def __init__(self, name: str, interval: float, step: Callable[[], Awaitable[object]]) -> None:
        super().__init__(name)
        self.interval = interval
        self._step = step

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self._step()
            except Exception:  # noqa: BLE001 - see the class docstring
                log.warning("%s failed; it runs again in %.0f s", self.name, self.interval,
                            exc_info=True)


class Drain(BackgroundLoop):
    """Runs ``step`` until it returns 0 (nothing left), then waits for ``nudge()`` or at most
    ``poll_seconds`` (or what ``idle_wait`` says, when work is due sooner). A step that
    raises is logged and retried after ``retry_seconds``: the rows it works on stay pending
    until it succeeds, so nothing is lost."""

    def __init__(self, name: str, step: Callable[[], Awaitable[int]], *,
                 poll_seconds: float, retry_seconds: float = 1.0,
                 idle_wait: Callable[[], Awaitable[float]] | None = None,
                 hold_seconds: float = 0.0) -> None:
        super().__init__(name)
        self.poll_seconds = poll_seconds
        self.retry_seconds = retry_seconds
        #: Seconds before the first step (a test hook that holds deliveries back).
        self.hold_seconds = hold_seconds
        self._step = step
        self._idle_wait = idle_wait
        self._wake = asyncio.Event()

    def nudge(self) -> None:
        """Drain now rather than at the next poll (new work was just written)."""
        self._wake.set()

    async def _run(self) -> None:
        if self.hold_seconds:
            log.warning("%s held for %.0f s (test hook)", self.name, self.hold_seconds)
            await asyncio.sleep(self.hold_seconds)
        while True:
            wait = self.poll_seconds
            try:
                if await self._step():
                    continue
                if self._idle_wait is not None:
                    wait = min(wait, await self._idle_wait())
            except Exception:  # noqa: BLE001 - see the class docstring
                log.exception("%s failed; retrying in %.0f s", self.name, self.retry_seconds)
                wait = self.retry_seconds
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)


class _Stoppable(Protocol):
    async def stop(self) -> None: ...


async def stop_all(*parts: _Stoppable | None) -> None:
    """Stop each part in the order given, skipping the ones never started (None)."""
    for part in parts:
        if part is not None:
            await part.stop()
