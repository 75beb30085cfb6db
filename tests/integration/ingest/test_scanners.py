"""Machine opens and link scanners, end to end on the real broker and PostgreSQL: HTTP hits
in from named client addresses (X-Forwarded-For, which uvicorn trusts from the local
proxy), exact counts out, and each hit kept out visible on its asset with its reason."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from harness.db import fetch, fetchval
from harness.events import publish
from harness.stack import Stack, eventually
from harness.user_agents import UA_DESKTOP, UA_IPHONE
from shared.events import EventEnvelope, Source

PERSON = "198.51.100.30"
ENGAGED_PERSON = "198.51.100.40"
BURSTING_CLIENT = "198.51.100.20"
SAFE_LINKS = "40.107.5.5"  # Microsoft Exchange Online Protection


def sent_by(ip: str, user_agent: str = UA_DESKTOP) -> dict[str, str]:
    return {"x-forwarded-for": ip, "user-agent": user_agent}


async def _filtered(stack: Stack, asset: str) -> dict[str, Any]:
    async with await stack.client() as client:
        r = await client.get(f"/v1/assets/{asset}/filtered")
        r.raise_for_status()
        return r.json()  # type: ignore[no-any-return]


async def _latest(stack: Stack, asset: str) -> list[dict[str, Any]]:
    async with await stack.client() as client:
        r = await client.get(f"/v1/assets/{asset}/filtered/latest")
        r.raise_for_status()
        return r.json()["hits"]  # type: ignore[no-any-return]


async def test_apple_privacy_protection_opens_are_machine_opens_apart_from_views(
    stack: Stack,
) -> None:
    await stack.add_asset("newsletter")
    await stack.ratings()
    ingest = await stack.ingest()
    await stack.aggregator()
    async with httpx.AsyncClient(base_url=ingest.url) as client:
        for ip in ("17.58.10.4", "17.120.0.9"):  # the proxy, as it fetches on delivery
            r = await client.get("/px.gif", params={"asset": "newsletter"},
                                 headers=sent_by(ip, "Mozilla/5.0"))
            assert r.status_code == 200 and r.content.startswith(b"GIF89a")
        # A person reading in Apple Mail on an iPhone, from Apple's network, still counts.
        await client.get("/px.gif", params={"asset": "newsletter"},
                         headers=sent_by("17.58.10.4", UA_IPHONE))
        # HEAD (a link checker) is answered and never counts, as anything else.
        assert (await client.head("/px.gif", params={"asset": "newsletter"},
                                  headers=sent_by(PERSON))).status_code == 200

    await eventually(lambda: _filtered(stack, "newsletter"), lambda f: f["machine_opens"] == 2)
    report = await _filtered(stack, "newsletter")
    assert (report["filtered"], report["machine_opens"], report["reasons"]) == (0, 2, [])
    usage = await eventually(lambda: stack.usage("newsletter"), lambda u: u["views"] == 1)
    assert [d["device_class"] for d in usage["devices"] if d["views"]] == ["phone"]
    latest = await _latest(stack, "newsletter")
    assert [h["reason"] for h in latest] == ["machine_open", "machine_open"]
    assert all(h["detail"].startswith("Apple Mail Privacy Protection") for h in latest)


async def test_scanner_networks_and_link_bursts_are_suspect_and_people_count_once(
    stack: Stack,
) -> None:
    for asset in ("case-study", "datasheet", "pricing"):
        await stack.add_asset(asset)
    await stack.ratings()
    ingest = await stack.ingest()
    await stack.aggregator()
    async with httpx.AsyncClient(base_url=ingest.url) as client:
        async def follow(asset: str, headers: dict[str, str]) -> None:
            r = await client.get(f"/d/{asset}", headers=headers, follow_redirects=False)
            assert r.status_code == 302  # the reader gets the file whatever we decide

        await follow("case-study", sent_by(SAFE_LINKS))
        for asset in ("case-study", "datasheet", "pricing"):  # every link of an email at once
            await follow(asset, sent_by(BURSTING_CLIENT))
        for asset in ("case-study", "datasheet"):  # a person opening two documents
            await follow(asset, sent_by(PERSON))
        # A person who reads as they go: engaged time on a page, then three links.
        view_id = str(uuid.uuid4())
        r = await client.post("/v1/events", headers=sent_by(ENGAGED_PERSON), json={"events": [
            {"type": "view", "asset_id": "pricing", "event_id": view_id, "source": "beacon"},
            {"type": "dwell", "asset_id": "pricing", "view_id": view_id, "source": "beacon",
             "engaged_ms": 4000, "wall_ms": 5000}]})
        assert r.status_code == 202
        await eventually(lambda: fetchval(stack.settings, "SELECT count(*) FROM events "
                                          "WHERE type = 'dwell'"), lambda n: n == 1)
        for asset in ("case-study", "datasheet", "pricing"):
            await follow(asset, sent_by(ENGAGED_PERSON))

    decided = "SELECT count(*) FROM held_link_hits WHERE decision IS NOT NULL"
    await eventually(lambda: fetchval(stack.settings, decided), lambda n: n == 8, timeout=20)
    downloads = {asset: (await stack.usage(asset))["downloads"]
                 for asset in ("case-study", "datasheet", "pricing")}
    assert downloads == {"case-study": 2, "datasheet": 2, "pricing": 1}

    burst, network = sorted(h["detail"] for h in await _latest(stack, "case-study"))
    assert network == "known scanner network: Microsoft Exchange Online Protection"
    assert burst.startswith("burst: 3 different links in ")
    assert burst.endswith(" s from one client, no engagement")
    for asset, n in (("case-study", 2), ("datasheet", 1), ("pricing", 1)):
        report = await _filtered(stack, asset)
        assert report["by_reason"] == {"suspect": n}
        assert report["reasons"][0]["label"] == "suspect"

    # Redelivered (a producer retry, an offset reset): neither held nor judged again.
    held = [EventEnvelope.model_validate_json(r["envelope"])
            for r in await fetch(stack.settings, "SELECT envelope FROM held_link_hits")]
    await publish(stack.settings, held)
    # One fresh view per asset after them, on the same partitions, shows they were consumed.
    markers = [held[0].model_copy(update={"asset_id": asset, "event_id": uuid.uuid4(),
                                          "type": "view", "source": Source.API})
               for asset in ("case-study", "datasheet", "pricing")]
    await publish(stack.settings, markers)
    views = "SELECT count(*) FROM events WHERE type = 'view'"
    await eventually(lambda: fetchval(stack.settings, views), lambda n: n == 1 + 3)
    assert await fetchval(stack.settings, "SELECT count(*) FROM held_link_hits") == 8
    assert {asset: (await stack.usage(asset))["downloads"]
            for asset in ("case-study", "datasheet", "pricing")} == downloads
    assert (await stack.rejected_summary())["by_reason"] == {"suspect": 4}
