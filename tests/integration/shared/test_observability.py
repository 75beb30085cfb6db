"""shared/observability.py on the real broker and PostgreSQL: readiness names what is
unreachable, and each service, run as a real process, reports health, readiness and its
metrics."""

from __future__ import annotations

import asyncio

import httpx

from harness.db import event_rows
from harness.processes import ServiceProcess
from harness.stack import Stack, eventually
from harness.user_agents import UA_IPHONE
from shared.db import create_pool
from shared.kafka import make_broker
from shared.observability import readiness


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
