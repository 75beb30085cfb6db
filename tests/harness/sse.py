"""A small Server-Sent Events reader for tests: real HTTP, parsed per the WHATWG rules
that matter here (event, id, data, comment lines)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = ["SseEvent", "SseStream", "open_stream"]


@dataclass
class SseEvent:
    event: str = "message"
    id: str | None = None
    data: str = ""
    comments: list[str] = field(default_factory=list)

    def json(self) -> Any:
        return json.loads(self.data)


class SseStream:
    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.comments: list[str] = []
        self._lines = response.aiter_lines()

    async def next_event(self, timeout: float = 10.0) -> SseEvent:
        """The next event with data; comment lines (heartbeats) are collected on the way."""
        return await asyncio.wait_for(self._read_event(), timeout)

    async def _read_event(self) -> SseEvent:
        current = SseEvent()
        data: list[str] = []
        async for line in self._lines:
            if line == "":
                if data:
                    current.data = "\n".join(data)
                    return current
                current = SseEvent()
                continue
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "event":
                current.event = value
            elif name == "id":
                current.id = value
            elif name == "data":
                data.append(value)
        raise EOFError("the stream ended")

    async def quiet_for(self, seconds: float) -> list[str]:
        """Read for ``seconds`` expecting no event; returns the comment lines seen (the
        heartbeats). Ends the stream's usefulness: call it last."""
        with contextlib.suppress(asyncio.TimeoutError):
            event = await asyncio.wait_for(self._read_event(), seconds)
            raise AssertionError(f"unexpected event while quiet: {event.data[:200]}")
        return self.comments

    async def events_until(self, done: Any, timeout: float = 15.0) -> list[SseEvent]:
        """Read events until ``done(events so far)`` holds."""
        seen: list[SseEvent] = []

        async def read() -> list[SseEvent]:
            while not done(seen):
                seen.append(await self._read_event())
            return seen

        try:
            return await asyncio.wait_for(read(), timeout)
        except TimeoutError:
            raise AssertionError(f"stream condition not met in {timeout}s; got "
                                 f"{[e.data[:200] for e in seen]}") from None


@contextlib.asynccontextmanager
async def open_stream(
    client: httpx.AsyncClient, path: str, **kwargs: Any
) -> AsyncIterator[SseStream]:
    timeout = httpx.Timeout(30, read=None)
    async with client.stream("GET", path, timeout=timeout, **kwargs) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield SseStream(response)
