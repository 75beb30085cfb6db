"""Webhooks as an attacker and as a receiver see them, on the real broker and PostgreSQL with
the ratings app and the notifier running (issue 12, "The webhook address filter can be
bypassed"; build item 7): every spelling of a loopback or metadata address, and a name that
resolves to one, is refused in production when registered and when sent; each receiver
verifies the timestamped signature with its own secret, shown to its owner once."""

from __future__ import annotations

import asyncio
import secrets
import socket

import httpx

from devtools.settings import StackSettings
from harness.db import fetch
from harness.notifier import (
    DROPPED,
    HEALTHY,
    SmtpServer,
    WebhookReceiver,
    deliveries,
    for_notifier,
    publish_scores,
    score_state,
    start_notifier,
)
from harness.stack import Stack, eventually
from shared.webhooks import verify

#: 127.0.0.1 as a decimal number, in short form, in hex; 169.254.169.254 (the cloud metadata
#: address) in octal. All pass ipaddress.ip_address as "not an address", so were let through.
BYPASSES = (
    "https://2130706433/hook",
    "https://127.1/hook",
    "https://0x7f.1/hook",
    "https://0251.0376.0251.0376/hook",
)
#: A name, not an address: this machine's own, which resolves to a loopback or private one.
BY_NAME = f"https://{socket.gethostname()}/hook"


def _production(stack: Stack, smtp: SmtpServer) -> StackSettings:
    """The test's settings in production mode, with real-looking secrets and SMTP."""
    return for_notifier(stack.settings, smtp.port, env="production",
                        signing_secret=secrets.token_hex(32),
                        webhook_signing_secret=secrets.token_hex(32))


async def test_production_refuses_to_register_any_bypass_address(
    stack: Stack, smtp: SmtpServer,
) -> None:
    running = Stack(_production(stack, smtp))
    try:
        await running.ratings()
        async with await running.client("marketing") as owner:
            for url in (*BYPASSES, BY_NAME):
                r = await owner.put("/v1/me/alert-preferences",
                                    json={"email": True, "webhook_url": url})
                assert r.status_code == 422, (url, r.text)
                [error] = r.json()["detail"]
                assert error["loc"] == ["body", "webhook_url"], error
                assert "address" in error["msg"], (url, error["msg"])
            saved = (await owner.get("/v1/me/alert-preferences")).json()
            assert saved["webhook_url"] is None
    finally:
        await running.close()


async def test_production_notifier_refuses_to_send_to_any_bypass_address(
    stack: Stack, smtp: SmtpServer,
) -> None:
    prod = _production(stack, smtp)
    running = Stack(prod)
    try:
        # URLs stored before these checks existed: the notifier refuses each itself, at
        # once and for good, before any connection.
        urls = (*BYPASSES, BY_NAME)
        for i, url in enumerate(urls):
            owner_id, _ = await running.user(f"owner{i}@example.com", "marketing")
            await fetch(prod, "INSERT INTO alert_preferences (user_id, email, webhook_url) "
                              "VALUES ($1, false, $2)", owner_id, url)
        await start_notifier(running, prod)
        await publish_scores(prod, [
            score_state(f"deck-{i}", rev, owner=f"owner{i}@example.com", **figures)
            for i in range(len(urls)) for rev, figures in ((1, HEALTHY), (2, DROPPED))])
        done = await eventually(
            lambda: fetch(prod, "SELECT target, state, attempts, last_error "
                                "FROM alert_deliveries ORDER BY target"),
            lambda rows: len(rows) == len(urls) and all(r["state"] == "failed" for r in rows),
            timeout=30)
    finally:
        await running.close()
    for row in done:
        assert row["attempts"] == 1 and "address" in row["last_error"], row
    by_target = {r["target"]: r["last_error"] for r in done}
    assert by_target["https://127.1/hook"] == (
        "webhook https://127.1/…: the webhook URL must not point at a private, loopback or "
        "link-local address")
    assert "resolves to" in by_target[BY_NAME] and "not a public address" in by_target[BY_NAME]


async def test_each_receiver_verifies_the_timestamped_signature_with_its_own_secret(
    stack: Stack,
) -> None:
    settings = for_notifier(stack.settings, None)
    first, second = await WebhookReceiver().start(), await WebhookReceiver().start()
    running = Stack(settings)
    try:
        await running.ratings()
        shown, tokens = {}, {}
        # One by name (localhost, resolved by the notifier), one by address.
        for email, receiver, host in (("ana@example.com", first, "localhost"),
                                      ("bo@example.com", second, "127.0.0.1")):
            _, token = await running.user(email, "marketing")
            tokens[email] = token
            url = receiver.url.replace("127.0.0.1", host)
            async with running.client_for(token) as owner:
                r = await owner.put("/v1/me/alert-preferences",
                                    json={"email": False, "webhook_url": url})
                assert r.status_code == 200, r.text
                shown[email] = r.json()["webhook_secret"]
                # Shown once: reading the preferences never shows it again...
                assert "webhook_secret" not in (await owner.get("/v1/me/alert-preferences")).json()
                # ...and saving the same URL again keeps it, without showing it.
                again = await owner.put("/v1/me/alert-preferences",
                                        json={"email": False, "webhook_url": url})
                assert "webhook_secret" not in again.json()
        assert shown["ana@example.com"] != shown["bo@example.com"]

        await start_notifier(running, settings)
        await publish_scores(settings, [
            score_state(asset, rev, owner=owner, **figures)
            for asset, owner in (("deck-a", "ana@example.com"), ("deck-b", "bo@example.com"))
            for rev, figures in ((1, HEALTHY), (2, DROPPED))])
        await eventually(lambda: asyncio.sleep(0, first.received + second.received),
                         lambda got: len(got) == 2)

        for receiver, mine, theirs in ((first, "ana@example.com", "bo@example.com"),
                                       (second, "bo@example.com", "ana@example.com")):
            [(headers, body)] = receiver.received
            stamp, signature = headers["x-glassboard-timestamp"], headers["x-glassboard-signature"]
            assert signature.startswith("v1=")
            assert verify(body, stamp, signature, shown[mine])
            assert not verify(body, stamp, signature, shown[theirs])
            assert not verify(body, stamp, signature, settings.webhook_signing_secret
                              .get_secret_value())
            # The timestamp is signed: the same request with a later one does not verify.
            assert not verify(body, str(int(stamp) + 1), signature, shown[mine])
        # The name the owner gave is what the receiver sees, though the notifier dialled
        # the address it checked.
        assert first.received[0][0]["host"] == f"localhost:{httpx.URL(first.url).port}"

        # Rotating gives a new secret, and the old one stops verifying at once.
        async with running.client_for(tokens["ana@example.com"]) as owner:
            r = await owner.post("/v1/me/alert-preferences/webhook-secret")
            assert r.status_code == 200, r.text
            rotated = r.json()["webhook_secret"]
        assert rotated != shown["ana@example.com"]
        await publish_scores(settings, [score_state("deck-a2", rev, owner="ana@example.com",
                                                    **figures)
                                        for rev, figures in ((1, HEALTHY), (2, DROPPED))])
        await eventually(lambda: asyncio.sleep(0, first.received), lambda got: len(got) == 2)
        headers, body = first.received[1]
        stamp, signature = headers["x-glassboard-timestamp"], headers["x-glassboard-signature"]
        assert verify(body, stamp, signature, rotated)
        assert not verify(body, stamp, signature, shown["ana@example.com"])
        assert [d["state"] for d in await deliveries(settings)] == ["sent"] * 3
    finally:
        await running.close()
        await first.stop()
        await second.stop()
