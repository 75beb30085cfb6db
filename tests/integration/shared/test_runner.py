"""What operations relies on: health and readiness, metrics, graceful SIGTERM, and two
aggregators sharing the group while one is killed and restarted."""

from __future__ import annotations

import asyncio
import re
import time

import asyncpg
import httpx

from service_processes import ServiceProcess
from shared.db import create_pool
from shared.kafka import make_broker
from shared.observability import readiness
from support import UA_IPHONE, Stack, eventually
from test_delivery import event_rows, make_events, publish


def metric_lines(text: str, name: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(name)]


async def test_readiness_names_what_is_unreachable(stack: Stack) -> None:
    settings = stack.settings
    pool = await create_pool(settings.database_url, max_size=1)
    broker = make_broker(settings.kafka_bootstrap_servers)
    await broker.start()
    try:
        assert await readiness(lambda: pool, broker)() == {"database": "ok", "kafka": "ok"}
        await pool.close()
        assert (await readiness(lambda: pool, broker)())["database"].startswith("unreachable")
    finally:
        await broker.stop()
    nowhere = make_broker("127.0.0.1:1")
    live_pool = await create_pool(settings.database_url, max_size=1)
    try:
        status = await readiness(lambda: live_pool, nowhere, timeout=0.5)()
        assert status == {"database": "ok", "kafka": "unreachable"}
    finally:
        await live_pool.close()


async def test_each_service_reports_health_readiness_and_its_metrics(stack: Stack) -> None:
    await stack.add_asset("ops-sheet")
    aggregator = ServiceProcess("aggregator", stack.settings).start()
    ingest = ServiceProcess("ingest", stack.settings).start()
    try:
        await asyncio.to_thread(ingest.wait_ready)
        await asyncio.to_thread(aggregator.wait_ready)
        async with httpx.AsyncClient() as client:
            for service in (ingest, aggregator):
                assert (await client.get(f"{service.ops_url}/healthz")).json() == {"status": "ok"}
                ready = (await client.get(f"{service.ops_url}/readyz")).json()
                assert ready == {"status": "ready", "database": "ok", "kafka": "ok"}
            for i in range(20):
                r = await client.get(f"{ingest.ops_url}/px.gif",
                                     params={"asset": "ops-sheet", "viewer": f"m{i}"},
                                     headers={"user-agent": UA_IPHONE})
                assert r.status_code == 200
            await client.get(f"{ingest.ops_url}/px.gif", params={"asset": "nope"})
            await eventually(lambda: event_rows(stack.settings), lambda n: n == 20)

            async def aggregator_metrics() -> str:
                return (await client.get(f"{aggregator.ops_url}/metrics")).text

            # The lag gauge is refreshed every 5 s; wait for a report covering the topic.
            text = await eventually(aggregator_metrics,
                                    lambda t: "glassboard_consumer_lag{" in t, timeout=20)
            ingest_text = (await client.get(f"{ingest.ops_url}/metrics")).text
    finally:
        ingest.kill()
        aggregator.kill()
    events_topic = stack.settings.topics.events.name
    lag = [line for line in metric_lines(text, "glassboard_consumer_lag{")
           if f'topic="{events_topic}"' in line]
    assert len(lag) == 6 and all(line.endswith(" 0.0") for line in lag), lag
    applied = metric_lines(text, 'glassboard_aggregator_events_total{outcome="decoded"}')
    assert applied and float(applied[0].split()[-1]) >= 20
    assert any(float(line.split()[-1]) >= 1 for line in
               metric_lines(text, 'glassboard_db_query_seconds_count{operation="apply_batch"'))
    assert metric_lines(text, "glassboard_aggregator_batch_seconds_bucket")
    assert metric_lines(text, "faststream_received_messages_total")
    published = metric_lines(ingest_text, 'glassboard_ingest_events_published_total{')
    assert sum(float(line.split()[-1]) for line in published) == 20
    assert metric_lines(ingest_text, 'glassboard_ingest_events_rejected_total{reason="unknown_asset"}')
    assert metric_lines(ingest_text, "faststream_published_messages_total")


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


async def views(settings: object, asset: str) -> int:
    conn = await asyncpg.connect(settings.database_url)  # type: ignore[attr-defined]
    try:
        return int(await conn.fetchval(
            "SELECT coalesce(sum(views), 0) FROM usage_daily WHERE asset_id = $1 "
            "AND device_class = 'all'", asset))
    finally:
        await conn.close()


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


async def test_two_aggregators_share_the_partitions_and_survive_a_kill_and_restart(
    stack: Stack,
) -> None:
    settings = stack.settings
    assets = [f"scale-{i}" for i in range(12)]  # keys spread over the 6 partitions
    for asset in assets:
        await stack.add_asset(asset)
    first = ServiceProcess("aggregator", settings).start()
    second = ServiceProcess("aggregator", settings).start()
    try:
        await asyncio.gather(asyncio.to_thread(first.wait_ready),
                             asyncio.to_thread(second.wait_ready))
        waves = [[e for a in assets for e in make_events(a, 50, viewer_prefix=f"w{w}-")]
                 for w in range(4)]
        await publish(settings, waves[0])
        await eventually(lambda: event_rows(settings), lambda n: n == len(waves[0]), timeout=60)

        # Both members hold partitions of `events` (their lag gauges say which).
        async def partitions_of(member: ServiceProcess) -> set[str]:
            async with httpx.AsyncClient() as client:
                text = (await client.get(f"{member.ops_url}/metrics")).text
            return set(re.findall(
                rf'glassboard_consumer_lag{{group="{re.escape(settings.topics.group_aggregator)}",'
                rf'partition="(\d)",topic="{re.escape(settings.topics.events.name)}"}}', text))

        held = await eventually(lambda: asyncio.gather(partitions_of(first), partitions_of(second)),
                                lambda p: p[0] and p[1] and len(p[0] | p[1]) == 6, timeout=30)
        assert not (held[0] & held[1])

        # Load keeps coming while one member is killed outright and later restarted.
        load = asyncio.create_task(publish(settings, waves[1]))
        await asyncio.sleep(0.2)
        first.kill()
        await load
        await publish(settings, waves[2])
        started = time.monotonic()
        first = ServiceProcess("aggregator", settings).start()
        await publish(settings, waves[3])
        total = sum(map(len, waves))
        await eventually(lambda: event_rows(settings), lambda n: n == total, timeout=90)
        await asyncio.to_thread(first.wait_ready)
        await asyncio.sleep(1.5)
    finally:
        first.kill()
        second.kill()
    assert await event_rows(settings) == total
    for asset in assets:
        assert await views(settings, asset) == 4 * 50
    assert time.monotonic() - started < 120


def test_logs_are_json_lines_that_carry_the_event_ids(capsys: object) -> None:
    import json
    import logging

    from shared.observability import configure_logging

    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure_logging("INFO", "json")
        logging.getLogger("services.aggregator.handlers").warning(
            "event dead-lettered: %s", "the database refused it",
            extra={"event_id": "0b0e6c9e-5d1c-4f7a-9a51-2b3c4d5e6f70", "asset_id": "deck"})
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    line = capsys.readouterr().err.strip().splitlines()[-1]  # type: ignore[attr-defined]
    record = json.loads(line)
    assert record["message"] == "event dead-lettered: the database refused it"
    assert record["event_id"] == "0b0e6c9e-5d1c-4f7a-9a51-2b3c4d5e6f70"
    assert record["level"] == "WARNING" and record["logger"] == "services.aggregator.handlers"
    assert "time" in record


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
