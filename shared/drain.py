"""A wakeable drain loop: the outbox relays and delivery workers that empty a table of
pending work. Beside ``Periodic``, which runs a step on a clock, a drain runs its step
again at once while it finds work, and otherwise sleeps until nudged or polled."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

__all__ = ["Drain"]

log = logging.getLogger(__name__)


class Drain:
    """Runs ``step`` until it returns 0 (nothing left), then waits for ``nudge()`` or at most
    ``poll_seconds`` (or what ``idle_wait`` says, when work is due sooner). A step that
    raises is logged and retried after ``retry_seconds``: the rows it works on stay pending
    until it succeeds, so nothing is lost."""

    def __init__(self, name: str, step: Callable[[], Awaitable[int]], *,
                 poll_seconds: float, retry_seconds: float = 1.0,
                 idle_wait: Callable[[], Awaitable[float]] | None = None,
                 hold_seconds: float = 0.0) -> None:
        self.name = name
        self.poll_seconds = poll_seconds
        self.retry_seconds = retry_seconds
        #: Seconds before the first step (a test hook that holds deliveries back).
        self.hold_seconds = hold_seconds
        self._step = step
        self._idle_wait = idle_wait
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    def nudge(self) -> None:
        """Drain now rather than at the next poll (new work was just written)."""
        self._wake.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

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
