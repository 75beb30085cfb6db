"""HTTP/1.1 over a bare socket, for what httpx cannot do: keep sending a huge body while
reading the answer, so a server that refuses early is seen to, and how much it took."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["RawAnswer", "send_body"]


@dataclass(frozen=True)
class RawAnswer:
    status: int
    headers: dict[str, str]
    body: bytes
    #: Body bytes written before the server answered or hung up.
    sent: int


async def send_body(url: str, method: str, path: str, pieces: Iterable[bytes], *,
                    length: int | None, headers: dict[str, str] | None = None,
                    timeout: float = 30.0) -> RawAnswer:
    """Send ``pieces`` as the body, with ``Content-Length: length`` or, when None, chunked;
    stop writing as soon as the answer arrives (or the server hangs up)."""
    host, _, port = url.removeprefix("http://").partition(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    framing = {"transfer-encoding": "chunked"} if length is None else {
        "content-length": str(length)}
    head = {"host": f"{host}:{port}", "content-type": "application/json", **framing,
            **(headers or {})}
    writer.write(f"{method} {path} HTTP/1.1\r\n".encode() + b"".join(
        f"{k}: {v}\r\n".encode() for k, v in head.items()) + b"\r\n")
    answered = asyncio.create_task(_read_answer(reader))
    sent = 0
    try:
        with contextlib.suppress(ConnectionError):
            for piece in pieces:
                if answered.done():
                    break
                writer.write(piece if length is not None else
                             f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                await writer.drain()
                sent += len(piece)
            else:
                if length is None:
                    writer.write(b"0\r\n\r\n")
                    await writer.drain()
        status, answer_headers, body = await asyncio.wait_for(answered, timeout)
    finally:
        answered.cancel()
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    return RawAnswer(status, answer_headers, body, sent)


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    status_line = await reader.readline()
    headers: dict[str, str] = {}
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return int(status_line.split()[1]), headers, body
