"""Ingest's HTTP edge on the real stack: the pixel always answers a GIF, and what it
refuses is counted (metrics) and kept (rejected events)."""

from __future__ import annotations

import httpx
from prometheus_client import REGISTRY

from harness.stack import Stack, eventually
from harness.user_agents import UA_DESKTOP


async def test_pixel_always_answers_a_gif_and_counts_what_it_refused(stack: Stack) -> None:
    ingest = await stack.ingest()
    await stack.ratings()
    await stack.aggregator()
    # The metric registry is per process and other tests feed it too: compare increments.
    unknown_before = REGISTRY.get_sample_value(
        "glassboard_ingest_events_rejected_total", {"reason": "unknown_asset"}) or 0.0
    async with httpx.AsyncClient(base_url=ingest.url) as client:
        for params in ({"asset": "never-registered"}, {"asset": "x", "page": "zero"}, {}):
            r = await client.get("/px.gif", params=params, headers={"user-agent": UA_DESKTOP})
            assert r.status_code == 200 and r.headers["content-type"] == "image/gif"
            assert r.headers["cache-control"].startswith("no-store") and len(r.content) == 43
        # A download link for an unknown asset cannot redirect anywhere: a clear 404.
        r = await client.get("/d/never-registered")
        assert r.status_code == 404 and "unknown asset" in r.json()["detail"]
        metrics = (await client.get("/metrics")).text
        assert 'glassboard_ingest_events_rejected_total{reason="unknown_asset"}' in metrics
        unknown_after = REGISTRY.get_sample_value(
            "glassboard_ingest_events_rejected_total", {"reason": "unknown_asset"})
        assert unknown_after == unknown_before + 3

    result = await eventually(stack.rejected_summary, lambda s: s["total"] == 4)
    assert result["by_reason"] == {"unknown_asset": 3, "invalid": 1}
