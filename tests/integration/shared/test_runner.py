"""shared/runner.py's graceful SIGTERM, on real processes: ingest and the aggregator drain
within 10 s losing nothing, and ratings (with an open score stream) and the notifier stop
within 10 s."""

from __future__ import annotations

import asyncio

import httpx

from harness.db import event_rows, views
from harness.processes import ServiceProcess
from harness.stack import Stack, eventually
from harness.user_agents import UA_IPHONE


async def send_hits(ingest_url: str, asset: str, stop: asyncio.Event,
                    answered: list[str], refused: list[str]) -> None:
    """Hits as fast as one client goes, each a new viewer, until ``stop``."""
    async with httpx.AsyncClient(base_url=ingest_url, timeout=5) as client:
        i = 0
        while not stop.is_set():
            viewer = f"g{i}"
            i += 1
            try:
                r = await client.get("/px.gif", params={"asset": asset, "viewer": viewer},
                                     headers={"user-agent": UA_IPHONE})
            except httpx.HTTPError:
                refused.append(viewer)
                await asyncio.sleep(0.01)
                continue
            (answered if r.status_code == 200 else refused).append(viewer)


async def test_sigterm_drains_ingest_and_the_aggregator_within_10_s_losing_nothing(
    stack: Stack,
) -> None:
    await stack.add_asset("drain-sheet")
    settings = stack.settings
    aggregator = ServiceProcess("aggregator", settings).start()
    ingest = ServiceProcess("ingest", settings).start()
    stop = asyncio.Event()
    answered: list[str] = []
    refused: list[str] = []
    try:
        await asyncio.to_thread(ingest.wait_ready)
        await asyncio.to_thread(aggregator.wait_ready)
        load = asyncio.create_task(send_hits(ingest.ops_url, "drain-sheet", stop, answered,
                                             refused))
        await eventually(lambda: views(settings, "drain-sheet"), lambda n: n >= 100, timeout=30)
        # The aggregator first, mid-stream: it finishes its batch, commits and leaves.
        code, took = await asyncio.to_thread(aggregator.terminate)
        assert code == 0 and took < 10, (code, took)
        # Then ingest while hits keep coming: answered hits are all on the topic.
        await asyncio.sleep(0.5)
        code, took = await asyncio.to_thread(ingest.terminate)
        assert code == 0 and took < 10, (code, took)
        stop.set()
        await load
        assert len(answered) > 100
        restarted = ServiceProcess("aggregator", settings).start()
        try:
            await asyncio.to_thread(restarted.wait_ready)
            counted = await eventually(lambda: views(settings, "drain-sheet"),
                                       lambda n: n >= len(answered), timeout=60)
            await asyncio.sleep(1.5)
            counted = await views(settings, "drain-sheet")
        finally:
            restarted.kill()
    finally:
        stop.set()
        ingest.kill()
        aggregator.kill()
    # Every answered hit counted exactly once; nothing refused was counted.
    assert counted == len(answered)
    assert await event_rows(settings) == len(answered)


async def test_sigterm_stops_ratings_with_an_open_score_stream_and_the_notifier_within_10_s(
    stack: Stack,
) -> None:
    settings = stack.settings
    _, token = await stack.user("ops-exec@example.com", "executive")
    ratings = ServiceProcess("ratings", settings).start()
    notifier = ServiceProcess("notifier", settings).start()
    try:
        await asyncio.gather(asyncio.to_thread(ratings.wait_ready),
                             asyncio.to_thread(notifier.wait_ready))
        async with httpx.AsyncClient(timeout=httpx.Timeout(15, read=None)) as client:
            async with client.stream("GET", f"{ratings.ops_url}/v1/scores/stream",
                                     headers={"authorization": f"Bearer {token}"}) as stream:
                assert stream.status_code == 200
                # A dashboard stays connected: shutdown must not wait for it to leave.
                code, took = await asyncio.to_thread(ratings.terminate)
        assert code == 0 and took < 10, ("ratings", code, took)
        code, took = await asyncio.to_thread(notifier.terminate)
        assert code == 0 and took < 10, ("notifier", code, took)
    finally:
        ratings.kill()
        notifier.kill()
