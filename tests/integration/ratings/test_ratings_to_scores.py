"""Ratings end to end: API -> outbox -> events -> aggregator -> rating_daily -> score API."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

import asyncpg
import httpx

from harness.stack import Stack, consume_all, eventually
from services.ratings.rating.models import RatingChange
from services.ratings.rating.store import apply_rating
from shared.events import Source
from shared.kafka import make_broker, publish_keyed

WINDOWS = ("7d", "30d", "90d", "all")
#: Issue 3: a rating shows in the score within a second.
MAX_DELAY_SECONDS = 1.0


@asynccontextmanager
async def as_user(stack: Stack, token: str | None) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{stack.settings.ratings_port}",
                                 headers=headers) as client:
        yield client


async def catalog(stack: Stack, *asset_ids: str) -> tuple[int, str]:
    """Assets owned by a marketing user; returns the owner's (id, token)."""
    owner = await stack.user("owner@example.com", "marketing", "Olga Owner")
    async with await stack.client("admin") as admin:
        for asset_id in asset_ids:
            r = await admin.post("/v1/assets", json={
                "id": asset_id, "title": asset_id.title(), "type": "deck",
                "url": f"https://example.com/{asset_id}.pdf", "owner_email": "owner@example.com",
            })
            assert r.status_code == 201, r.text
    return owner


async def sales_reps(stack: Stack, n: int) -> list[tuple[int, str]]:
    return [await stack.user(f"rep{i}@example.com", "sales") for i in range(n)]


async def put_rating(client: httpx.AsyncClient, asset_id: str, stars: int | None) -> None:
    if stars is None:
        r = await client.delete(f"/v1/assets/{asset_id}/rating")
        assert r.status_code == 204, r.text
    else:
        r = await client.put(f"/v1/assets/{asset_id}/rating", json={"stars": stars})
        assert r.status_code == 200, r.text


async def rate(stack: Stack, token: str, asset_id: str, stars: int | None) -> None:
    async with as_user(stack, token) as client:
        await put_rating(client, asset_id, stars)


async def get_score(client: httpx.AsyncClient, asset_id: str) -> dict[str, Any]:
    r = await client.get(f"/v1/assets/{asset_id}/score")
    r.raise_for_status()
    return r.json()  # type: ignore[no-any-return]


async def score(stack: Stack, asset_id: str) -> dict[str, Any]:
    async with await stack.client("sales") as client:
        return await get_score(client, asset_id)


def histogram(**by_stars: int) -> dict[str, int]:
    return {str(s): by_stars.get(f"s{s}", 0) for s in range(1, 6)}


def expect(count: int, mean: float | None, bayesian: float, prior_mean: float,
           hist: dict[str, int]) -> dict[str, Any]:
    return {"count": count, "mean": mean, "bayesian_average": bayesian, "histogram": hist,
            "prior": {"mean": prior_mean, "weight": 5.0}}


def figures(window: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in window.items() if k != "since"}


async def rate_and_time(rater: httpx.AsyncClient, reader: httpx.AsyncClient, asset_id: str,
                        stars: int | None, expected: dict[str, Any]) -> float:
    """Rate, then poll the score API until every window shows ``expected``; seconds taken.
    Both clients are already open: creating one (its TLS context) costs tens of ms."""
    started = time.perf_counter()
    await put_rating(rater, asset_id, stars)
    await eventually(lambda: get_score(reader, asset_id),
                     lambda s: all(figures(s["windows"][w]) == expected for w in WINDOWS),
                     timeout=5, interval=0.01)
    return time.perf_counter() - started


async def fetch(stack: Stack, query: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(stack.settings.database_url)
    try:
        return await conn.fetch(query, *args)
    finally:
        await conn.close()


def outbox_event(raw: str) -> dict[str, Any]:
    """The envelope in an outbox row. The service's pool encodes jsonb with json.dumps, and
    the store hands it an already-encoded string: the row holds a JSON string, not an
    object. Accept both, as the relay does."""
    value = json.loads(raw)
    return json.loads(value) if isinstance(value, str) else value  # type: ignore[no-any-return]


async def test_counts_histogram_mean_and_bayesian_average_follow_rate_rerate_withdraw(
    stack: Stack,
) -> None:
    await stack.ratings()
    await stack.aggregator()
    await catalog(stack, "launch-deck", "old-brochure")
    reps = await sales_reps(stack, 5)
    async with AsyncExitStack() as clients:
        a, b, c, d, e = [await clients.enter_async_context(as_user(stack, token))
                         for _, token in reps]
        reader = await clients.enter_async_context(await stack.client("sales"))
        await get_score(reader, "launch-deck")  # warm: the first call creates the reader
        # Another asset sets the catalog-wide prior apart from this asset's mean.
        await put_rating(d, "old-brochure", 1)
        await put_rating(e, "old-brochure", 1)
        delays = await _rate_rerate_withdraw(reader, a, b, c)
    print(f"\nrating -> score visible, seconds: {', '.join(f'{x:.3f}' for x in delays)}")
    assert max(delays) < MAX_DELAY_SECONDS, delays

    # Ratings are not usage: no view, no device row, no "last event" from a rating.
    usage = await stack.usage("launch-deck", "all")
    assert usage["views"] == 0 and usage["downloads"] == 0 and usage["devices"] == []
    assert await fetch(stack, "SELECT * FROM usage_daily") == []
    assert await fetch(stack, "SELECT * FROM asset_totals") == []


async def _rate_rerate_withdraw(reader: httpx.AsyncClient, a: httpx.AsyncClient,
                                b: httpx.AsyncClient, c: httpx.AsyncClient) -> list[float]:
    return [
        # 5 -> mean 5; catalog 5,1,1 -> prior 7/3; (5 x 7/3 + 5) / (5 + 1) = 50/18 = 2.7778
        await rate_and_time(a, reader, "launch-deck", 5,
                            expect(1, 5.0, 2.7778, 2.3333, histogram(s5=1))),
        # 5, 4 -> mean 4.5; catalog 5,4,1,1 -> prior 11/4 = 2.75; (13.75 + 9) / 7 = 3.25
        await rate_and_time(b, reader, "launch-deck", 4,
                            expect(2, 4.5, 3.25, 2.75, histogram(s4=1, s5=1))),
        # 5, 4, 2 -> mean 11/3; catalog 5,4,2,1,1 -> prior 13/5 = 2.6;
        # bayesian (5 x 2.6 + 11) / (5 + 3) = 24 / 8 = 3.0
        await rate_and_time(c, reader, "launch-deck", 2,
                            expect(3, 3.6667, 3.0, 2.6, histogram(s2=1, s4=1, s5=1))),
        # c re-rates 2 -> 5: 5, 4, 5 -> mean 14/3; prior 16/5 = 3.2; (16 + 14) / 8 = 3.75
        await rate_and_time(c, reader, "launch-deck", 5,
                            expect(3, 4.6667, 3.75, 3.2, histogram(s4=1, s5=2))),
        # b withdraws the 4: 5, 5 -> mean 5; prior 12/4 = 3.0; (15 + 10) / 7 = 3.5714
        await rate_and_time(b, reader, "launch-deck", None,
                            expect(2, 5.0, 3.5714, 3.0, histogram(s5=2))),
    ]


async def test_redelivered_rating_events_change_nothing_and_the_stream_carries_ratings(
    stack: Stack,
) -> None:
    await stack.ratings()
    await stack.aggregator()
    await catalog(stack, "case-study")
    (_, a), (_, b), (_, c) = await sales_reps(stack, 3)
    for token, stars in ((a, 3), (b, 4), (c, 5), (a, 2), (b, None)):
        await rate(stack, token, "case-study", stars)
    settled = await eventually(lambda: score(stack, "case-study"),
                               lambda s: s["windows"]["all"]["histogram"] == histogram(s2=1, s5=1),
                               timeout=5)
    daily_before = await fetch(stack, "SELECT * FROM rating_daily ORDER BY 1, 2, 3")

    settings = stack.settings
    scores_topic = settings.topics.asset_scores.name
    outbox = await fetch(stack, "SELECT event FROM rating_outbox ORDER BY id")
    envelopes = [outbox_event(r["event"]) for r in outbox]
    assert len(envelopes) == 5
    published_before = len(await consume_all(settings.kafka_bootstrap_servers, scores_topic,
                                             expect=10**6, timeout=2))
    broker = make_broker(settings.kafka_bootstrap_servers)
    await broker.start()
    try:
        await publish_keyed(broker, settings.topics.events.name,
                            [(e["asset_id"], json.dumps(e).encode()) for e in envelopes])
    finally:
        await broker.stop()
    # The aggregator re-publishes the asset's (unchanged) state once it applied the copies.
    records = await eventually(
        lambda: consume_all(settings.kafka_bootstrap_servers, scores_topic,
                            expect=published_before + 1, timeout=2),
        lambda rs: len(rs) > published_before, timeout=15)
    await asyncio.sleep(1.0)

    assert await score(stack, "case-study") == settled
    assert await fetch(stack, "SELECT * FROM rating_daily ORDER BY 1, 2, 3") == daily_before
    latest = json.loads(records[-1].value)
    assert records[-1].key == b"case-study"
    assert latest["ratings"] == {"count": 2, "mean": 3.5, "histogram": histogram(s2=1, s5=1)}
    assert latest["totals"]["views"] == 0


async def test_an_old_rating_moved_to_today_by_a_re_rating_enters_the_7d_window(
    stack: Stack,
) -> None:
    await stack.ratings()
    await stack.aggregator()
    await catalog(stack, "pricing")
    (a_id, a), (b_id, _), (c_id, _) = await sales_reps(stack, 3)
    now = datetime.now(timezone.utc)
    # Ratings given before the API existed, written as the service writes them.
    conn = await asyncpg.connect(stack.settings.database_url)
    try:
        for user_id, stars, days_ago in ((a_id, 2, 10), (b_id, 4, 6), (c_id, 3, 7)):
            async with conn.transaction():
                await apply_rating(conn, RatingChange(
                    asset_id="pricing", user_id=user_id, stars=stars,
                    at=now - timedelta(days=days_ago), source=Source.API))
    finally:
        await conn.close()
    # '7d' is today and the six days before: 6 days ago is in, 7 and 10 days ago are not.
    before = await eventually(lambda: score(stack, "pricing"),
                              lambda s: s["windows"]["all"]["count"] == 3, timeout=5)
    assert before["windows"]["7d"]["histogram"] == histogram(s4=1)
    assert before["windows"]["30d"]["histogram"] == histogram(s2=1, s3=1, s4=1)
    assert before["windows"]["7d"]["since"] == (now.date() - timedelta(days=6)).isoformat()

    await rate(stack, a, "pricing", 5)  # 10 days ago, 2 stars -> today, 5 stars
    after = await eventually(lambda: score(stack, "pricing"),
                             lambda s: s["windows"]["7d"]["count"] == 2, timeout=5)
    assert after["windows"]["7d"]["histogram"] == histogram(s4=1, s5=1)
    assert after["windows"]["7d"]["mean"] == 4.5
    for window in ("30d", "90d", "all"):
        assert after["windows"][window]["histogram"] == histogram(s3=1, s4=1, s5=1)
    old_day = await fetch(stack, "SELECT ratings FROM rating_daily WHERE day = $1",
                          (now - timedelta(days=10)).date())
    assert [r["ratings"] for r in old_day] == [0]


async def test_bad_rating_requests_are_refused_and_store_nothing(stack: Stack) -> None:
    await stack.ratings()
    (owner_id, owner) = await catalog(stack, "battlecard")
    [(rep_id, rep)] = await sales_reps(stack, 1)

    async with as_user(stack, rep) as client:
        for stars in (0, 6):
            r = await client.put("/v1/assets/battlecard/rating", json={"stars": stars})
            assert r.status_code == 422, r.text
        r = await client.put("/v1/assets/battlecard/rating",
                             json={"stars": 4, "comment": "x" * 2001})
        assert r.status_code == 422, r.text
        r = await client.put("/v1/assets/no-such-asset/rating", json={"stars": 4})
        assert r.status_code == 404, r.text
        assert (await client.get("/v1/assets/no-such-asset/score")).status_code == 404
        for method in ("PUT", "DELETE"):
            r = await client.request(method, f"/v1/assets/battlecard/ratings/{owner_id}",
                                     json={"stars": 1})
            assert r.status_code == 403, r.text
    async with as_user(stack, owner) as client:
        r = await client.put("/v1/assets/battlecard/rating", json={"stars": 5})
        assert r.status_code == 403, r.text
    async with as_user(stack, None) as client:
        assert (await client.put("/v1/assets/battlecard/rating",
                                 json={"stars": 5})).status_code == 401
        assert (await client.delete("/v1/assets/battlecard/rating")).status_code == 401
        assert (await client.get("/v1/assets/battlecard/score")).status_code == 401
    async with as_user(stack, "gbt_not-a-real-token") as client:
        assert (await client.get("/v1/assets/battlecard/score")).status_code == 401

    assert await fetch(stack, "SELECT * FROM ratings") == []
    assert await fetch(stack, "SELECT * FROM rating_outbox") == []

    # Nothing rated anywhere: no mean, and the Bayesian average is the scale midpoint.
    empty = await score(stack, "battlecard")
    assert set(empty["windows"]) == set(WINDOWS)
    for window in WINDOWS:
        assert figures(empty["windows"][window]) == expect(0, None, 3.0, 3.0, histogram())

    # The 2000-character limit itself is fine.
    async with as_user(stack, rep) as client:
        r = await client.put("/v1/assets/battlecard/rating",
                             json={"stars": 4, "comment": "x" * 2000})
        assert r.status_code == 200, r.text
    assert [(r["user_id"], r["stars"]) for r in await fetch(stack, "SELECT * FROM ratings")] == [
        (rep_id, 4)
    ]
