"""Sign-in cannot be abused: link requests are limited per address and per client (429 with
Retry-After), the answer comes before the mail is sent and is the same for every address,
and the emailed link signs in only from its own page's POST (a scanner's GET burns nothing,
another site's form signs nobody in)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx
from aiosmtpd.controller import Controller

from devtools.mail_sink import MailSink
from harness.sign_in import browser, form_of, land, mailed_link
from harness.stack import Stack, eventually
from shared.embedded import free_port

REP = "rep@example.com"


async def test_sixty_requests_for_one_address_send_five_mails_then_429_with_retry_after(
    stack: Stack,
) -> None:
    ratings = await stack.ratings()
    await stack.user(REP, "sales")
    mailer = ratings.app.state.mailer
    async with browser(ratings.url) as client:
        answers = [await client.post("/v1/auth/magic-link", json={"email": REP})
                   for _ in range(60)]
        # The address counts however it is written.
        shouted = await client.post("/v1/auth/magic-link", json={"email": "REP@Example.com"})
    assert [a.status_code for a in answers] == [202] * 5 + [429] * 55
    assert shouted.status_code == 429
    for refused in answers[5:]:
        assert 1 <= int(refused.headers["retry-after"]) <= 600
        assert "too many sign-in requests" in refused.json()["detail"]
    await eventually(lambda: asyncio.sleep(0, mailer.sent), lambda sent: len(sent) == 5)
    await asyncio.sleep(0.5)
    assert [to for to, _, _ in mailer.sent] == [REP] * 5


async def test_someone_else_asking_for_your_address_does_not_lock_you_out(stack: Stack) -> None:
    """The per-address limit counts per client: an attacker using up an address's requests
    from their machine leaves its owner's own requests alone, while all clients together
    still get at most SIGN_IN_RATE_LIMIT_ADDRESS_TOTAL links a day to that mailbox."""
    stack.settings = stack.settings.model_copy(
        update={"sign_in_rate_limit_address_total": "8/day"})
    ratings = await stack.ratings()
    await stack.user(REP, "sales")
    mailer = ratings.app.state.mailer

    async def ask(client: httpx.AsyncClient, address: str) -> int:
        r = await client.post("/v1/auth/magic-link", json={"email": REP},
                              headers={"x-forwarded-for": address})
        return r.status_code

    async with browser(ratings.url) as client:
        attacker = [await ask(client, "203.0.113.66") for _ in range(10)]
        owner = await ask(client, "198.51.100.7")
        others = [await ask(client, f"192.0.2.{n}") for n in range(1, 4)]
    assert attacker == [202] * 5 + [429] * 5
    assert owner == 202
    assert others == [202, 202, 429]  # 8 a day to one mailbox from everyone together
    await eventually(lambda: asyncio.sleep(0, mailer.sent), lambda sent: len(sent) == 8)


async def test_one_client_asking_for_many_addresses_gets_429(stack: Stack) -> None:
    ratings = await stack.ratings()
    async with browser(ratings.url) as client:
        statuses = [(await client.post("/v1/auth/magic-link",
                                       json={"email": f"person{n}@example.com"})).status_code
                    for n in range(101)]
        limited = await client.post("/v1/auth/magic-link", json={"email": "one.more@example.com"})
    assert statuses == [202] * 100 + [429]
    assert int(limited.headers["retry-after"]) >= 1


@dataclass
class SlowSink(MailSink):
    """An SMTP server that takes ``delay`` seconds to accept each message."""

    delay: float = 2.0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


async def test_known_and_unknown_addresses_get_the_same_answer_before_any_mail_is_sent(
    stack: Stack,
) -> None:
    sink = SlowSink(delay=2.0)
    smtp = Controller(sink, hostname="127.0.0.1", port=free_port())
    smtp.start()
    try:
        stack.settings = stack.settings.model_copy(update={
            "smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_timeout_seconds": 30.0})
        ratings = await stack.ratings()
        await stack.user(REP, "sales")

        async def ask(email: str) -> tuple[httpx.Response, float, int]:
            async with browser(ratings.url) as client:
                started = time.monotonic()
                answer = await client.post("/v1/auth/magic-link", json={"email": email})
                return answer, time.monotonic() - started, len(sink.messages)

        known, known_seconds, mails_by_then = await ask(REP)
        unknown, unknown_seconds, _ = await ask("nobody@example.com")
        # Answered before the SMTP server accepted the mail (it takes 2 s), so the time
        # taken says nothing about the account.
        assert mails_by_then == 0
        assert known_seconds < 1.0 and unknown_seconds < 1.0, (known_seconds, unknown_seconds)
        assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())
        assert known.status_code == 202
        assert set(known.headers) == set(unknown.headers)
        [mail] = await eventually(lambda: asyncio.sleep(0, list(sink.messages)),
                                  lambda m: len(m) == 1, timeout=15)
        body = mail.get_body(preferencelist=("plain",))
        assert mail["To"] == REP and body is not None and "/auth/magic?" in body.get_content()
    finally:
        smtp.stop()


async def test_a_get_of_the_magic_link_signs_nobody_in_and_does_not_use_it(stack: Stack) -> None:
    ratings = await stack.ratings()
    await stack.user(REP, "sales")
    sent_before = len(ratings.app.state.mailer.sent)
    async with browser(ratings.url) as person:
        assert (await person.post("/v1/auth/magic-link",
                                  json={"email": REP, "next": "/stale"})).status_code == 202
        link = await mailed_link(ratings, REP, sent_before)
        # A mail scanner fetches the link, twice, and follows whatever it is sent to.
        async with httpx.AsyncClient(follow_redirects=True) as scanner:
            for _ in range(2):
                page = await scanner.get(link)
                assert page.status_code == 200, page.text
                assert REP in page.text and 'method="post"' in page.text
                assert page.headers["cache-control"] == "no-store"
                assert page.headers["referrer-policy"] == "strict-origin"
                assert "<script" not in page.text  # nothing submits the form by itself
            assert (await scanner.get(f"{ratings.url}/v1/me")).status_code == 401
        # The person's own press still works, and goes where the link said.
        landed = await land(person, link)
        assert landed.status_code == 303 and landed.headers["location"] == "/stale"
        assert (await person.get("/v1/me")).json()["email"] == REP
        # Used now: the page says so, and pressing again signs nobody in.
        again = await person.get(link)
        assert again.status_code == 400 and "already used" in again.text


async def test_another_sites_form_posting_a_link_signs_nobody_in(stack: Stack) -> None:
    """Login CSRF: an attacker's page posts the attacker's own link, to sign the victim in
    as the attacker. Without this browser's check value (the session cookie does not go
    with another site's POST) it gets the page back, with a warning, and nobody signed in."""
    ratings = await stack.ratings()
    attacker = "mallory@example.com"
    await stack.user(attacker, "sales")
    sent_before = len(ratings.app.state.mailer.sent)
    async with browser(ratings.url) as client:
        await client.post("/v1/auth/magic-link", json={"email": attacker})
        link = await mailed_link(ratings, attacker, sent_before)
        async with httpx.AsyncClient() as fetch:
            fields = form_of(await fetch.get(link))
    for check in ({"csrf": "guessed"}, {"csrf": ""}):
        async with httpx.AsyncClient(base_url=ratings.url) as victim:
            forged = await victim.post("/auth/magic", data={**fields, **check})
            assert forged.status_code == 403 and attacker in forged.text
            assert "did not come from this page" in forged.text
            assert (await victim.get("/v1/me")).status_code == 401
    # The link was not used by any of that.
    async with browser(ratings.url) as owner:
        assert (await land(owner, link)).status_code == 303
        assert (await owner.get("/v1/me")).json()["email"] == attacker
