"""The score stream (SSE), the one endpoint the fuzzer leaves out because it never ends: a
cap on open streams per user (429 + Retry-After), the end of a stream whose session or
token ended (re-checked every STREAM_SESSION_RECHECK_SECONDS), and hostile parameters."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from prometheus_client import REGISTRY

from harness.sign_in import signed_in
from harness.sse import SseStream, open_stream
from harness.stack import Stack, eventually

STREAM = "/v1/scores/stream"


async def _status_of_one_more(client: httpx.AsyncClient) -> httpx.Response:
    """Open one more stream and close it at once: the answer's status and headers."""
    async with client.stream("GET", STREAM, timeout=10) as response:
        return response


async def test_one_stream_more_than_streams_per_user_is_refused_429_until_one_closes(
    stack: Stack,
) -> None:
    stack.settings = stack.settings.model_copy(update={"streams_per_user": 2,
                                                       "sse_heartbeat_seconds": 0.5})
    await stack.ratings()
    async with await stack.client("sales") as rep, await stack.client("executive") as boss:
        async with open_stream(rep, STREAM), open_stream(rep, STREAM, params={"asset": "x"}):
            refused = await _status_of_one_more(rep)
            assert refused.status_code == 429, refused.status_code
            # A closed tab's stream is noticed at its next heartbeat: retry after that.
            assert refused.headers["retry-after"] == "1"
            assert "2 score streams are open" in (await rep.get(STREAM)).json()["detail"]
            # The cap is per user: someone else still streams.
            async with open_stream(boss, STREAM):
                pass
        # Both closed: the slots are back (once the server has seen the disconnects).
        again = await eventually(lambda: _status_of_one_more(rep),
                                 lambda r: r.status_code == 200, timeout=10)
        assert again.headers["content-type"].startswith("text/event-stream")
        # A refused request held no slot: the cap is whole again.
        async with open_stream(rep, STREAM), open_stream(rep, STREAM):
            assert (await _status_of_one_more(rep)).status_code == 429


def _open_streams() -> float:
    return REGISTRY.get_sample_value("glassboard_sse_clients") or 0.0


async def _ends_within(stream: SseStream, seconds: float) -> float:
    """Seconds until the stream says ``signed-out`` and ends; fails after ``seconds``."""
    started = time.monotonic()
    last = await stream.next_event(timeout=seconds)
    assert last.event == "signed-out" and "sign in again" in last.json()["detail"]
    try:
        extra = await stream.next_event(timeout=seconds)
    except EOFError:
        return time.monotonic() - started
    raise AssertionError(f"the stream went on after signed-out: {extra}")


async def _held_open_then_ended(stream: SseStream, end: Any) -> None:
    """Two re-checks (1 s apart) pass with the sign-in still working; once ``end()`` ends
    it, the stream says ``signed-out`` and closes within the interval."""
    before = _open_streams()
    await asyncio.sleep(2.5)
    assert _open_streams() == before, "the stream closed while still signed in"
    await end()
    assert await _ends_within(stream, 3.0) < 2.5


async def test_a_stream_ends_within_the_recheck_interval_once_its_token_is_revoked(
    stack: Stack,
) -> None:
    stack.settings = stack.settings.model_copy(update={"stream_session_recheck_seconds": 1.0})
    ratings = await stack.ratings()
    _, token = await stack.user("rep@example.com", "sales")
    async with httpx.AsyncClient(base_url=ratings.url,
                                 headers={"authorization": f"Bearer {token}"}) as rep:
        [held] = (await rep.get("/v1/tokens")).json()["tokens"]

        async def revoke() -> None:
            assert (await rep.delete(f"/v1/tokens/{held['id']}")).status_code == 200

        async with open_stream(rep, STREAM) as stream:
            await _held_open_then_ended(stream, revoke)
        assert (await rep.get(STREAM)).status_code == 401


async def test_a_browser_stream_ends_within_the_recheck_interval_after_logout(
    stack: Stack,
) -> None:
    stack.settings = stack.settings.model_copy(update={"stream_session_recheck_seconds": 1.0})
    ratings = await stack.ratings()
    await stack.user("rep@example.com", "sales")
    async with signed_in(ratings, "rep@example.com") as browser:
        async def log_out() -> None:
            assert (await browser.post("/v1/auth/logout")).status_code == 204

        async with open_stream(browser, STREAM) as stream:
            await _held_open_then_ended(stream, log_out)


async def test_a_stream_ends_within_the_recheck_interval_when_its_user_is_deactivated(
    stack: Stack,
) -> None:
    stack.settings = stack.settings.model_copy(update={"stream_session_recheck_seconds": 1.0})
    ratings = await stack.ratings()
    rep_id, token = await stack.user("rep@example.com", "sales")
    async with await stack.client("admin") as admin, httpx.AsyncClient(
            base_url=ratings.url, headers={"authorization": f"Bearer {token}"}) as rep:
        async def deactivate() -> None:
            assert (await admin.post(f"/v1/users/{rep_id}/deactivate")).status_code == 200

        async with open_stream(rep, STREAM) as stream:
            await _held_open_then_ended(stream, deactivate)


async def test_the_stream_refuses_hostile_parameters_and_survives_a_hostile_last_event_id(
    stack: Stack,
) -> None:
    await stack.ratings()
    async with await stack.client("sales") as rep:
        for params in ({"since": -1}, {"since": 2**63}, {"since": "1" + "0" * 19 + "1"},
                       {"stale_days": 0}, {"stale_days": 2**63}, {"owner": "x" * 321},
                       {"q": "a\x00b"}, {"asset": "deck\x00"}, {"type": "podcast"}):
            async with rep.stream("GET", STREAM, params=params) as refused:
                assert refused.status_code == 422, (params, refused.status_code)
        # An unreadable Last-Event-ID starts the stream over. Both a 5,000-digit one
        # (Python refuses int() of more than 4,300 digits) and "²" (a digit to isdigit(),
        # not to int()) were 500s.
        for last_event_id in ("9" * 5000, "9" * 20, "-1", "\u00b2".encode("latin-1")):
            async with open_stream(rep, STREAM, headers={"Last-Event-ID": last_event_id}):
                pass
