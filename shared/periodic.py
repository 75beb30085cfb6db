"""A background step run every few seconds until stopped: the catch-up sweeps, polls and
metric reports the services keep beside their consumers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

__all__ = ["Periodic"]

log = logging.getLogger(__name__)


class Periodic:
    """Runs ``step`` every ``interval`` seconds. A step that raises is logged and tried
    again at the next tick: these steps repair or report, so missing one loses nothing."""

    def __init__(self, name: str, interval: float, step: Callable[[], Awaitable[object]]) -> None:
        self.name = name
        self.interval = interval
        self._step = step
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self._step()
            except Exception:  # noqa: BLE001 - see the class docstring
                log.warning("%s failed; it runs again in %.0f s", self.name, self.interval,
                            exc_info=True)
