"""Two aggregators share the partitions of ``events`` as one consumer group, and survive
one of them killed outright and restarted while load keeps coming (real processes)."""

from __future__ import annotations

import asyncio
import re
import time

import httpx

from harness.db import event_rows, views
from harness.events import make_events, publish
from harness.processes import ServiceProcess
from harness.stack import Stack, eventually


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
