"""One-tap rating links end to end: the edge's pages, and the command's way through Kafka
into the ratings table and back out as a rating event (real broker and database)."""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer

from harness.stack import Stack, consume_all, eventually
from shared.command_signing import SIGNATURE_HEADER, command_key, sign_command
from shared.commands import RatingCommand
from shared.signing import rating_link_url


async def _rater_client(stack: Stack, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=f"http://127.0.0.1:{stack.settings.ratings_port}",
                             headers={"authorization": f"Bearer {token}"})


async def _setup(stack: Stack) -> dict[str, Any]:
    """Ingest, ratings and aggregator up; an asset owned by a marketer; a sales rater."""
    ingest = await stack.ingest()
    await stack.ratings()
    await stack.aggregator()
    owner_id, owner_token = await stack.user("owner@example.com", "marketing")
    rater_id, rater_token = await stack.user("rater@example.com", "sales")
    async with await stack.client("marketing") as client:
        r = await client.post("/v1/assets", json={
            "id": "pricing-sheet", "title": "Pricing sheet <2026>", "type": "product_sheet",
            "url": "https://cdn.example.com/pricing.pdf", "owner_email": "owner@example.com",
        })
        assert r.status_code == 201, r.text
    return {"ingest": ingest, "owner_id": owner_id, "owner_token": owner_token,
            "rater_id": rater_id, "rater_token": rater_token}


async def _my_rating(stack: Stack, token: str) -> dict[str, Any]:
    async with await _rater_client(stack, token) as client:
        r = await client.get("/v1/assets/pricing-sheet/rating")
        r.raise_for_status()
        return r.json()  # type: ignore[no-any-return]


def _cid(html: str) -> str:
    match = re.search(r'name="cid" value="([0-9a-f-]{36})"', html)
    assert match, html
    return match.group(1)


def _link(stack: Stack, user_id: int, stars: int, asset_id: str = "pricing-sheet",
          expires_at: int | None = None) -> str:
    return rating_link_url(stack.settings.ingest_base_url,
                           stack.settings.signing_secret.get_secret_value(), asset_id, user_id,
                           stars, expires_at or int(time.time()) + 3600)


async def test_a_tapped_link_rates_once_per_rater_and_asset(stack: Stack) -> None:
    s = await _setup(stack)
    async with await _rater_client(stack, s["rater_token"]) as api:
        r = await api.get("/v1/assets/pricing-sheet/rating-links")
        assert r.status_code == 200, r.text
        body = r.json()
    links = {link["stars"]: link["url"] for link in body["links"]}
    assert sorted(links) == [1, 2, 3, 4, 5]
    expires = datetime.fromisoformat(body["expires_at"])
    assert 29.9 < (expires - datetime.now(timezone.utc)).total_seconds() / 86400 <= 30
    query = parse_qs(urlsplit(links[4]).query)
    assert query["u"] == [str(s["rater_id"])]
    assert links[4].startswith(f"{stack.settings.ingest_base_url}/r/pricing-sheet/4?")
    for url in links.values():  # escaped into the snippet, and the title too
        assert url.replace("&", "&amp;") in body["html"]
    assert "Pricing sheet &lt;2026&gt;" in body["html"] and "<script" not in body["html"]

    # Owners get no links: they may not rate their own assets.
    async with await _rater_client(stack, s["owner_token"]) as api:
        assert (await api.get("/v1/assets/pricing-sheet/rating-links")).status_code == 403
        assert (await api.get("/v1/assets/nope/rating-links")).status_code == 404

    async with httpx.AsyncClient(follow_redirects=True) as web:
        # A mail scanner opens all five links: each shows a page and records nothing.
        pages = {}
        for stars, url in links.items():
            r = await web.get(url)
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
            assert r.headers["cache-control"].startswith("no-store")
            assert r.headers["referrer-policy"] == "no-referrer"
            assert '<form id="rate" method="post"' in r.text and f"Record {stars}★" in r.text
            pages[stars] = r.text

        # The rater's browser submits the 4★ page, and is sent on to the thank-you page
        # (Post/Redirect/Get: Back and Reload never resubmit).
        first_cid = _cid(pages[4])
        r = await web.post(links[4], data={"cid": first_cid})
        assert r.status_code == 200, r.text
        assert [h.status_code for h in r.history] == [303]
        assert r.url.params["done"] == "rated" and r.url.params["sig"] == query["sig"][0]
        assert "Thanks — you rated" in r.text and "pricing-sheet" in r.text and "4★" in r.text
        assert '<label for="why">' in r.text and 'maxlength="2000"' in r.text
        assert '<html lang="en">' in r.text and 'name="viewport"' in r.text
        await eventually(lambda: _my_rating(stack, s["rater_token"]), lambda m: m["stars"] == 4)

        # Then changes their mind: still one rating, now 2★.
        r = await web.post(links[2])
        assert r.status_code == 200 and "2★" in r.text
        # A resubmitted 4★ form (same command id) is applied once, not again.
        assert (await web.post(links[4], data={"cid": first_cid})).status_code == 200
        # The "why" form re-asserts 2★ with a note; CRLF counts as one character.
        note = "Great for CFO calls.\r\n" + "x" * (2000 - 21)
        r = await web.post(links[2], data={"cid": _cid(r.text), "comment": note})
        assert r.status_code == 200, r.text
        assert "Your note is saved" in r.text
        saved = await eventually(lambda: _my_rating(stack, s["rater_token"]),
                                 lambda m: m["comment"] is not None)
        assert saved == {"asset_id": "pricing-sheet", "stars": 2,
                         "comment": note.replace("\r\n", "\n")}
        # Tapping 2★ again from the email changes nothing (and keeps the note).
        assert (await web.post(links[2])).status_code == 200
        # Finally 3★, without a note: replaces the rating and its note.
        assert (await web.post(links[3])).status_code == 200
        await eventually(lambda: _my_rating(stack, s["rater_token"]), lambda m: m["stars"] == 3)

    conn = await asyncpg.connect(stack.settings.database_url)
    try:
        rows = await conn.fetch("SELECT user_id, stars, comment FROM ratings")
    finally:
        await conn.close()
    assert [tuple(r) for r in rows] == [(s["rater_id"], 3, None)]

    records = await consume_all(stack.settings.kafka_bootstrap_servers,
                                stack.settings.topics.events.name, expect=4)
    events = [json.loads(r.value) for r in records]
    assert [(e["stars"], e["previous_stars"], e["has_comment"]) for e in events] == [
        (4, None, False), (2, 4, False), (2, 2, True), (3, 2, False),
    ]
    assert {(e["type"], e["source"], e["viewer_id"]) for e in events} == {
        ("rating", "link", f"user:{s['rater_id']}")
    }


async def test_bad_links_answer_clear_pages_and_record_nothing(stack: Stack) -> None:
    s = await _setup(stack)
    rater = s["rater_id"]
    good = _link(stack, rater, 4)
    sig = parse_qs(urlsplit(good).query)["sig"][0]
    forged_sig = good.replace(sig, ("A" if sig[0] != "A" else "B") + sig[1:])
    other_user = good.replace(f"u={rater}&", f"u={s['owner_id']}&")
    expired = _link(stack, rater, 4, expires_at=int(time.time()) - 1)
    unknown = _link(stack, rater, 4, asset_id="no-such-asset")
    bad_stars = {n: good.replace("/pricing-sheet/4?", f"/pricing-sheet/{n}?")
                 for n in ("0", "6", "x", "44")}
    missing = good.split("&sig=")[0]
    cases = [
        (forged_sig, 403, "not valid"),
        (other_user, 403, "not valid"),
        (expired, 410, "expired"),
        (unknown, 404, "no longer exists"),
        (missing, 400, "incomplete"),
        *[(url, 400, "1 to 5") for url in bad_stars.values()],
    ]
    async with httpx.AsyncClient(follow_redirects=True) as web:
        for url, status, words in cases:
            for method in ("GET", "POST"):
                r = await web.request(method, url, data={"comment": "hi"} if method == "POST" else None)
                assert r.status_code == status, (method, url, r.text)
                assert r.headers["content-type"].startswith("text/html")
                assert words in r.text and "Traceback" not in r.text
                assert sig not in r.text or url == good
        r = await web.post(good, data={"comment": "y" * 2001})
        assert r.status_code == 422 and "too long" in r.text
        assert f'aria-invalid="true">{"y" * 2001}</textarea>' in r.text  # the draft is kept
        r = await web.post(good, data={"comment": "nul\x00byte"})
        assert r.status_code == 422

        # Signed by the edge but refused by the ratings service: an owner rating their own
        # asset, and a rater who does not exist. The edge cannot know; nothing is stored.
        assert (await web.post(_link(stack, s["owner_id"], 5))).status_code == 200
        assert (await web.post(_link(stack, 987_654, 5))).status_code == 200
        # One good rating, to know the consumer got past everything before it.
        assert (await web.post(good)).status_code == 200
    await eventually(lambda: _my_rating(stack, s["rater_token"]), lambda m: m["stars"] == 4)

    conn = await asyncpg.connect(stack.settings.database_url)
    try:
        assert [tuple(r) for r in await conn.fetch("SELECT user_id, stars FROM ratings")] == [
            (rater, 4)]
    finally:
        await conn.close()
    # Only the three signed-and-valid requests were published.
    commands = await consume_all(stack.settings.kafka_bootstrap_servers,
                                 stack.settings.topics.rating_commands.name, expect=4, timeout=3)
    assert sorted(json.loads(c.value)["user_id"] for c in commands) == sorted(
        [s["owner_id"], 987_654, rater])


async def test_unreadable_and_repeated_commands_never_block_the_consumer(stack: Stack) -> None:
    s = await _setup(stack)
    command = RatingCommand(command_id=uuid.uuid4(), asset_id="pricing-sheet",
                            user_id=s["rater_id"], stars=5, comment="Solid",
                            issued_at=datetime.now(timezone.utc))
    later = command.model_copy(update={"command_id": uuid.uuid4(), "stars": 1, "comment": None})
    producer = AIOKafkaProducer(bootstrap_servers=stack.settings.kafka_bootstrap_servers)
    await producer.start()
    try:
        topic = stack.settings.topics.rating_commands.name
        key = command_key(stack.settings.signing_secret.get_secret_value())
        for value in (b"{not json", json.dumps({"asset_id": "pricing-sheet", "stars": 9}).encode(),
                      command.model_dump_json().encode(), command.model_dump_json().encode(),
                      later.model_dump_json().encode()):
            # Signed as ingest signs: the consumer must get past unreadable ones too.
            sig = sign_command(key, value).encode()
            await producer.send_and_wait(topic, value, key=b"pricing-sheet",
                                         headers=[(SIGNATURE_HEADER, sig)])
    finally:
        await producer.stop()
    await eventually(lambda: _my_rating(stack, s["rater_token"]), lambda m: m["stars"] == 1)
    records = await consume_all(stack.settings.kafka_bootstrap_servers,
                                stack.settings.topics.events.name, expect=2)
    assert [(e["stars"], e["previous_stars"]) for e in map(lambda r: json.loads(r.value), records)] == [
        (5, None), (1, 5)]
