"""What bounds an open score stream: a cap per user, and a session re-check that ends the
stream when the sign-in behind it ends (logout, revoked token, deactivated user)."""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from fastapi import HTTPException
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.types import Receive, Scope, Send

if TYPE_CHECKING:
    from .hub import Subscription

__all__ = ["SIGNED_OUT", "HeldStream", "StreamSlots", "batches_while_signed_in"]


class StreamSlots:
    """Open streams per user. A slot is taken when the stream is granted, before its first
    byte, so a burst of requests cannot all pass; it is given back when the response ends."""

    def __init__(self) -> None:
        self._open: Counter[int] = Counter()

    def claim(self, user_id: int, limit: int) -> Callable[[], None] | None:
        """The slot's release (idempotent), or None when ``user_id`` holds ``limit``."""
        if self._open[user_id] >= limit:
            return None
        self._open[user_id] += 1
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self._open[user_id] -= 1
                if self._open[user_id] <= 0:
                    del self._open[user_id]

        return release

    def claim_or_429(self, user_id: int, limit: int, heartbeat_seconds: float,
                     what: str) -> Callable[[], None]:
        """:meth:`claim`, or a 429 whose Retry-After is one heartbeat: a closed tab's stream
        is noticed at its next heartbeat, so a slot is free by then."""
        release = self.claim(user_id, limit)
        if release is None:
            raise HTTPException(429, f"{limit} {what} streams are open for this user already;"
                                     " close one",
                                headers={"Retry-After": str(math.ceil(heartbeat_seconds))})
        return release


class HeldStream(EventSourceResponse):
    """An SSE response that gives its slot back however it ends: client gone, stream
    closed, server stopping, or a HEAD request that never starts the stream at all."""

    def __init__(self, content: Any, *, release: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()


async def batches_while_signed_in(
    subscription: Subscription, signed_in: Callable[[], Awaitable[bool]], every: float,
) -> AsyncIterator[list[Any]]:
    """``subscription``'s batches until ``signed_in()``, asked at least every ``every``
    seconds (also while nothing happens), answers False; a batch that arrives when a check
    is due waits for that check, so nothing goes out after the sign-in ended."""
    deadline = time.monotonic() + every
    while True:
        try:
            batch = await asyncio.wait_for(subscription.next_batch(),
                                           max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            batch = []
        if time.monotonic() >= deadline:
            if not await signed_in():
                return
            deadline = time.monotonic() + every
        if batch:
            yield batch


#: The last event of a stream whose session ended: the page can tell it from a drop.
SIGNED_OUT = ServerSentEvent(event="signed-out", data='{"detail": "the session ended; sign '
                             'in again"}', retry=60_000)
