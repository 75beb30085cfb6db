"""Share links at the edge (/s/{id}), end to end on the real broker and PostgreSQL: the rows
a rep's link would have (inserted here as the ratings service would), HTTP opens in from
named client addresses (X-Forwarded-For), the events ingest published, and, with the
aggregator running, what counts and what is kept out with its reason."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from harness.db import fetch, fetchval
from harness.stack import Stack, consume_all, eventually
from harness.user_agents import UA_DESKTOP, UA_GOOGLEBOT, UA_IPHONE
from shared.events import EventEnvelope, Source
from shared.share_links import browser_key, gate_email_hash, new_link_id, recipient_viewer_id

PERSON = "198.51.100.30"
COLLEAGUE = "198.51.100.31"
SAFE_LINKS = "40.107.5.5"  # Microsoft Exchange Online Protection
ASSET = "case-study"
ASSET_URL = "https://cdn.example.com/case-study.html?lang=en#results"


def sent_by(ip: str, user_agent: str = UA_DESKTOP) -> dict[str, str]:
    return {"x-forwarded-for": ip, "user-agent": user_agent}


async def _link(
    stack: Stack, asset: str = ASSET, *, gate: bool = False,
    age: timedelta = timedelta(minutes=1), expires_at: datetime | None = None,
) -> str:
    """A share link as the ratings service makes it, made ``age`` ago by a sales rep."""
    creator, _ = await stack.user("rep@example.com", "sales", "Riley Rep")
    link_id = new_link_id()
    await fetch(stack.settings,
                "INSERT INTO share_links (id, asset_id, creator_id, recipient_email, email_gate, "
                "created_at, expires_at) VALUES ($1, $2, $3, 'pat@prospect.example', $4, "
                "now() - $5::interval, $6)",
                link_id, asset, creator, gate, age, expires_at)
    return link_id


async def _events(stack: Stack, expect: int) -> list[EventEnvelope]:
    records = await consume_all(stack.settings.kafka_bootstrap_servers,
                                stack.settings.topics.events.name, expect=expect)
    events = [EventEnvelope.model_validate_json(r.value) for r in records]
    return sorted(events, key=lambda e: e.received_at)


async def _rejected(stack: Stack, n: int) -> list[dict[str, Any]]:
    sql = "SELECT reason, detail, source, payload FROM rejected_events ORDER BY received_at"
    count = "SELECT count(*) FROM rejected_events"
    await eventually(lambda: fetchval(stack.settings, count), lambda c: c >= n)
    return await fetch(stack.settings, sql)


def _visit(response: httpx.Response) -> str | None:
    """The open's event id the redirect carries (None: it did not count), checking the rest
    of the asset's url came through untouched."""
    assert response.status_code in (302, 303), response.text
    location = urlsplit(response.headers["location"])
    assert (location.netloc, location.path, location.fragment) == (
        "cdn.example.com", "/case-study.html", "results")
    query = parse_qs(location.query)
    assert query["lang"] == ["en"]
    assert response.headers["referrer-policy"] == "no-referrer"
    return query["gb_visit"][0] if "gb_visit" in query else None


async def _start(stack: Stack) -> str:
    await stack.add_asset(ASSET, url=ASSET_URL)
    await stack.ratings()
    ingest = await stack.ingest()
    await stack.aggregator()
    return ingest.url


async def test_an_open_is_one_view_of_the_recipient_and_a_browser_keeps_its_key(
    stack: Stack,
) -> None:
    url = await _start(stack)
    link = await _link(stack)
    async with httpx.AsyncClient(base_url=url, headers=sent_by(PERSON)) as person, \
            httpx.AsyncClient(base_url=url, headers=sent_by(COLLEAGUE, UA_IPHONE)) as other:
        first = await person.get(f"/s/{link}")
        visit = _visit(first)
        assert visit is not None and uuid.UUID(visit)
        cookie = person.cookies["gb_b"]
        set_cookie = first.headers["set-cookie"].lower()
        assert "path=/s/" in set_cookie and "httponly" in set_cookie and "samesite=lax" in set_cookie
        forwarded = _visit(await other.get(f"/s/{link}"))
        assert forwarded not in (None, visit)

        usage = await eventually(lambda: stack.usage(ASSET), lambda u: u["views"] == 2)
        assert usage["unique_viewers"] == 2
        again = _visit(await person.get(f"/s/{link}"))
        assert again not in (None, visit, forwarded)
        assert person.cookies["gb_b"] == cookie  # the same browser id, not a new one

    events = await _events(stack, 3)
    assert [str(e.event_id) for e in events] == [visit, forwarded, again]
    recipient = browser_key(link, cookie)
    assert [e.browser_key for e in events] == [recipient, events[1].browser_key, recipient]
    assert events[1].browser_key != recipient
    for event in events:
        assert (event.type, event.source, event.asset_id, event.link_id) == (
            "view", Source.SHARE, ASSET, link)
        assert event.viewer_id == recipient_viewer_id(link, event.browser_key or "")
        assert event.gate_email_hash is None
    assert events[0].device.device_class == "desktop"
    assert events[1].device.device_class == "phone"


async def test_head_scanners_bots_and_fetches_as_the_link_is_sent_do_not_count(
    stack: Stack,
) -> None:
    url = await _start(stack)
    link = await _link(stack)
    async with httpx.AsyncClient(base_url=url) as client:
        head = await client.head(f"/s/{link}", headers=sent_by(PERSON))
        assert _visit(head) is None and "set-cookie" not in head.headers
        assert _visit(await client.get(f"/s/{link}", headers=sent_by(SAFE_LINKS))) is None
        assert _visit(await client.get(f"/s/{link}",
                                       headers=sent_by(PERSON, UA_GOOGLEBOT))) is None
        fresh = await _link(stack, age=timedelta(0))  # a mail gateway following it at once
        assert _visit(await client.get(f"/s/{fresh}", headers=sent_by(COLLEAGUE))) is None
        # The recipient, later: counted.
        assert _visit(await client.get(f"/s/{link}", headers=sent_by(PERSON))) is not None

    rejected = await _rejected(stack, 4)
    assert [(r["reason"], r["source"]) for r in rejected] == [
        ("suspect", "share"), ("suspect", "share"), ("bot", "share"), ("suspect", "share")]
    head_why, network, bot, soon = (r["detail"] for r in rejected)
    assert head_why == "HEAD request: a link checker, not a reader"
    assert network == "known scanner network: Microsoft Exchange Online Protection"
    assert "Googlebot" in bot
    assert soon.startswith("fetched ") and soon.endswith(" s after the link was made")
    assert float(soon.split()[1]) < 5
    # The link id is the link itself: never in what every signed-in user may see.
    assert all(link not in str(r["payload"]) and fresh not in str(r["payload"])
               for r in rejected)
    usage = await eventually(lambda: stack.usage(ASSET), lambda u: u["views"] == 1)
    assert usage["unique_viewers"] == 1
    events = await _events(stack, 1)
    assert [(e.link_id, e.source) for e in events] == [(link, Source.SHARE)]


async def test_unknown_revoked_expired_and_removed_links_answer_pages(stack: Stack) -> None:
    url = await _start(stack)
    link = await _link(stack)
    expiring = await _link(stack, expires_at=datetime.now(timezone.utc) + timedelta(seconds=2))
    await stack.add_asset("datasheet", url="https://cdn.example.com/datasheet.pdf")
    removed = await _link(stack, "datasheet")
    async with httpx.AsyncClient(base_url=url, headers=sent_by(PERSON)) as client:
        for unknown in (new_link_id(), "not-a-link", "x" * 200):
            page = await client.get(f"/s/{unknown}")
            assert page.status_code == 404 and "This link does not exist" in page.text
            assert page.headers["content-type"].startswith("text/html")
            assert "gb_b" not in page.headers.get("set-cookie", "")
        # Made after ingest loaded its cache (the rep trying it at once): found by id.
        made_now = await _link(stack)
        assert _visit(await client.get(f"/s/{made_now}")) is not None
        assert _visit(await client.get(f"/s/{link}")) is not None
        assert (await client.get(f"/s/{removed}")).status_code == 302

        await fetch(stack.settings, "UPDATE share_links SET revoked_at = now() WHERE id = $1",
                    link)
        await fetch(stack.settings, "UPDATE assets SET deleted_at = now() WHERE id = 'datasheet'")
        # Within one cache refresh (0.5 s in tests; CATALOG_REFRESH_SECONDS). Each open
        # before it still counts.
        answers: list[httpx.Response] = []

        async def poll(link_id: str) -> httpx.Response:
            answers.append(await client.get(f"/s/{link_id}"))
            return answers[-1]

        started = asyncio.get_running_loop().time()
        revoked = await eventually(lambda: poll(link), lambda r: r.status_code == 410,
                                   timeout=3)
        assert "This link was withdrawn" in revoked.text
        gone = await eventually(lambda: poll(removed), lambda r: r.status_code == 410,
                                timeout=3)
        assert asyncio.get_running_loop().time() - started < 1.5
        assert "This document is no longer available" in gone.text
        assert (await client.head(f"/s/{link}")).status_code == 410

        assert _visit(await client.get(f"/s/{expiring}")) is not None
        await asyncio.sleep(2.2)
        expired = await client.get(f"/s/{expiring}")  # exact: checked against the clock
        assert expired.status_code == 410 and "This link has expired" in expired.text
        assert (await client.post(f"/s/{expiring}", data={"email": "a@b.example"})
                ).status_code == 410

    # The opens of live links counted; the rest published nothing.
    late = sum(a.status_code == 302 for a in answers)
    assert len(await _events(stack, 4 + late)) == 4 + late
    assert {a.status_code for a in answers} <= {302, 410}


async def test_an_email_gate_asks_first_and_keeps_the_email_hashed(stack: Stack) -> None:
    url = await _start(stack)
    link = await _link(stack, gate=True)
    async with httpx.AsyncClient(base_url=url, headers=sent_by(PERSON)) as client:
        form = await client.get(f"/s/{link}")
        assert form.status_code == 200 and 'name="email"' in form.text
        assert f'action="/s/{link}"' in form.text and "not verified" in form.text
        assert "cdn.example.com" in form.headers["content-security-policy"]
        cookie = client.cookies["gb_b"]

        empty = await client.post(f"/s/{link}", data={"email": "  "})
        assert empty.status_code == 422 and 'name="email"' in empty.text
        assert "Enter your email address to continue." in empty.text
        typo = await client.post(f"/s/{link}", data={"email": "pat.prospect.example"})
        assert typo.status_code == 422 and "does not look like an email" in typo.text
        assert 'value="pat.prospect.example"' in typo.text
        not_a_form = await client.post(f"/s/{link}", content=b'{"email": "a@b.example"}',
                                       headers={"content-type": "application/json"})
        assert not_a_form.status_code == 422

        passed = await client.post(f"/s/{link}", data={"email": " Pat@Prospect.example "})
        assert passed.status_code == 303
        visit = _visit(passed)
        assert visit is not None
        assert client.cookies["gb_b"] == cookie

    [event] = await _events(stack, 1)
    assert str(event.event_id) == visit
    assert event.gate_email_hash == gate_email_hash(link, "pat@prospect.example")
    assert event.browser_key == browser_key(link, cookie)
    assert event.link_id == link and event.source is Source.SHARE
    await eventually(lambda: stack.usage(ASSET), lambda u: u["views"] == 1)


async def test_opens_spend_the_clients_pixel_and_per_asset_limits(stack: Stack) -> None:
    stack.settings = stack.settings.model_copy(update={
        "rate_limit_pixel": "4/minute", "rate_limit_asset": "2/minute"})
    url = await _start(stack)
    await stack.add_asset("datasheet", url="https://cdn.example.com/case-study.html?lang=en#results")
    case_study, datasheet = await _link(stack), await _link(stack, "datasheet")
    async with httpx.AsyncClient(base_url=url, headers=sent_by(PERSON)) as client:
        visits = [_visit(await client.get(f"/s/{link}"))
                  for link in (case_study, case_study, case_study, datasheet, datasheet)]
    # Third open of one asset: over the asset limit; fifth hit: over the client's limit.
    # The reader still gets the document each time.
    assert [v is not None for v in visits] == [True, True, False, True, False]
    rejected = await _rejected(stack, 2)
    assert [(r["reason"], r["detail"], r["source"]) for r in rejected] == [
        ("rate_limited", "over the asset limit", "share"),
        ("rate_limited", "over the pixel limit", "share")]
    assert len(await _events(stack, 3)) == 3
