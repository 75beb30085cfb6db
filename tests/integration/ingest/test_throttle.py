"""Rate limits on the real stack: over a (tiny) limit the edge answers 429 with
Retry-After, and every limited hit is counted (metric) and kept (rejected events)."""

from __future__ import annotations

import httpx
from prometheus_client import REGISTRY

from harness.stack import Stack, eventually
from harness.user_agents import UA_DESKTOP

LIMITED = "glassboard_ingest_rate_limited_total"


def _limited(limit: str) -> float:
    return REGISTRY.get_sample_value(LIMITED, {"limit": limit}) or 0.0


async def test_over_its_limit_a_client_or_key_gets_429_and_the_hits_are_counted(
    stack: Stack,
) -> None:
    stack.settings = stack.settings.model_copy(update={
        "rate_limit_pixel": "3/minute", "rate_limit_beacon": "5/minute",
        "rate_limit_api_key": "4/minute",
    })
    await stack.add_asset("deck")
    await stack.ratings()
    async with await stack.client() as admin:  # before ingest starts: its first load has it
        token = (await admin.post("/v1/ingest-keys", json={"name": "crm"})).json()["token"]
    ingest = await stack.ingest()
    await stack.aggregator()
    before = {k: _limited(k) for k in ("pixel", "beacon", "api_key")}
    beacon = {"type": "view", "asset_id": "deck", "source": "beacon"}
    async with httpx.AsyncClient(base_url=ingest.url, headers={"user-agent": UA_DESKTOP}) as c:
        # Distinct pages: the double-click rule would merge repeats of one page by one viewer.
        for page in (1, 2, 3):
            r = await c.get("/px.gif", params={"asset": "deck", "page": page})
            assert r.status_code == 200
        r = await c.get("/px.gif", params={"asset": "deck", "page": 4})
        assert r.status_code == 429 and r.headers["content-type"] == "image/gif"
        assert 1 <= int(r.headers["retry-after"]) <= 60 and len(r.content) == 43
        # HEAD never counts, so it is never limited either.
        assert (await c.head("/px.gif", params={"asset": "deck"})).status_code == 200

        r = await c.post("/v1/events", json={"events": [{**beacon, "page": 10 + n}
                                                        for n in range(5)]})
        assert r.status_code == 202
        r = await c.post("/v1/events", json={"events": [beacon]})
        assert r.status_code == 429 and r.json()["reason"] == "rate_limited"
        assert int(r.headers["retry-after"]) == r.json()["retry_after"] >= 1

        # Keys are limited per key, apart from their client's beacon limit.
        keyed = {"authorization": f"Bearer {token}"}
        api = [{"type": "view", "asset_id": "deck", "viewer_id": "v1", "page": 20 + n}
               for n in range(4)]
        r = await c.post("/v1/events", json={"events": api}, headers=keyed)
        assert r.status_code == 202
        r = await c.post("/v1/events", json={"events": [{"type": "view", "asset_id": "deck"}]},
                         headers=keyed)
        assert r.status_code == 429 and "retry-after" in r.headers

    assert {k: _limited(k) - v for k, v in before.items()} == {
        "pixel": 1, "beacon": 1, "api_key": 1}
    summary = await eventually(stack.rejected_summary,
                               lambda s: s["by_reason"].get("rate_limited") == 3)
    assert summary["total"] == 3
    usage = await eventually(lambda: stack.usage("deck"), lambda u: u["views"] == 12)
    assert usage["views"] == 3 + 5 + 4


async def test_head_requests_answer_like_get_and_count_nothing(stack: Stack) -> None:
    await stack.add_asset("deck")
    ingest = await stack.ingest()
    await stack.ratings()
    await stack.aggregator()
    async with httpx.AsyncClient(base_url=ingest.url, headers={"user-agent": UA_DESKTOP}) as c:
        for _ in range(3):
            head = await c.head("/px.gif", params={"asset": "deck"})
            assert head.status_code == 200 and head.content == b""
            assert head.headers["content-type"] == "image/gif"
            assert head.headers["cache-control"].startswith("no-store")
            head = await c.head("/d/deck")
            assert head.status_code == 302
            assert head.headers["location"] == "https://cdn.example.com/deck.pdf"
        assert (await c.head("/d/no-such-asset")).status_code == 404
        # One real view afterwards: once it counts, the HEADs before it would have too.
        assert (await c.get("/px.gif", params={"asset": "deck"})).status_code == 200
    usage = await eventually(lambda: stack.usage("deck"), lambda u: u["views"] >= 1)
    assert (usage["views"], usage["downloads"]) == (1, 0)
    assert (await stack.rejected_summary())["total"] == 0


async def test_one_client_adds_at_most_its_asset_limit_to_one_asset_whatever_its_user_agent(
    stack: Stack,
) -> None:
    """The views a curl loop could add by inventing a new User-Agent (a new anonymous
    viewer) per request are bounded per asset, on every keyless path together."""
    stack.settings = stack.settings.model_copy(update={"rate_limit_asset": "3/minute"})
    for asset in ("deck", "sheet"):
        await stack.add_asset(asset)
    await stack.ratings()
    key = await stack.ingest_key()
    ingest = await stack.ingest()
    await stack.aggregator()
    async with httpx.AsyncClient(base_url=ingest.url) as c:
        def forged(n: int) -> dict[str, str]:
            return {"user-agent": f"{UA_DESKTOP} Build/{n}"}

        statuses = [(await c.get("/px.gif", params={"asset": "deck"}, headers=forged(n))
                     ).status_code for n in range(2)]
        statuses.append((await c.get("/d/deck", headers=forged(2))).status_code)
        assert statuses == [200, 200, 302]
        r = await c.get("/px.gif", params={"asset": "deck"}, headers=forged(3))
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        r = await c.post("/v1/events", headers=forged(4), json={"events": [
            {"type": "view", "asset_id": "deck", "source": "beacon"}]})
        assert r.status_code == 429 and r.json()["limit"] == "asset"
        # Another asset has its own count; a download link still answers with the file.
        assert (await c.get("/px.gif", params={"asset": "sheet"}, headers=forged(5))
                ).status_code == 200
        assert (await c.get("/d/deck", headers=forged(6))).status_code == 302
        # An ingest key is limited per key, not per asset.
        r = await c.post("/v1/events", headers={**key, **forged(7)}, json={"events": [
            {"type": "view", "asset_id": "deck", "viewer_id": f"crm-{n}"} for n in range(5)]})
        assert r.status_code == 202

    usage = await eventually(lambda: stack.usage("deck"),
                             lambda u: (u["views"], u["downloads"]) == (2 + 5, 1))
    assert (usage["views"], usage["downloads"], usage["unique_viewers"]) == (7, 1, 7)
    summary = await eventually(stack.rejected_summary,
                               lambda s: s["by_reason"].get("rate_limited") == 3)
    assert summary["by_reason"] == {"rate_limited": 3}
