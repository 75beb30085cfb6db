"""Webhook URLs refused with a reason, which addresses count as public, each receiver's
secret, and the timestamped signatures of webhook bodies (pure)."""

from __future__ import annotations

import ipaddress
import json
import socket
import uuid

import pytest

from shared.webhooks import (
    WebhookTarget,
    master_secret,
    public_address,
    receiver_secret,
    resolve_target,
    sign,
    validate_webhook_url,
    verify,
)

#: Spellings of 127.0.0.1 and 169.254.169.254 (cloud metadata) that browsers and
#: inet_aton accept; ipaddress.ip_address accepts none of them.
BYPASSES = [
    "https://2130706433/",
    "https://127.1/",
    "https://0x7f.1/",
    "https://0251.0376.0251.0376/",
    "https://0x7f000001/",
    "https://0177.0.0.1/",
    "https://127.0.0.1./",
    "https://[::ffff:127.0.0.1]/",
    "https://[::1]/",
    "https://0/",
]


@pytest.mark.parametrize(("url", "production", "message"), [
    ("", False, "empty"),
    ("ftp://hooks.example.com/x", False, "must start with https:// or http://"),
    ("http://hooks.example.com/x", True, "must start with https://"),
    ("https://user:pw@hooks.example.com/x", False, "user name or password"),
    ("https:///nohost", False, "no host name"),
    ("https://hooks.example.com:99999/x", False, "not a valid URL"),
    ("https://hooks.example .com/x", False, "spaces"),
    ("https://127.0.0.1/x", True, "private, loopback or link-local"),
    ("https://169.254.169.254/latest", True, "private, loopback or link-local"),
    ("https://localhost/x", True, "this machine"),
    ("https://localhost./x", True, "this machine"),
    # What the notifier's HTTP client cannot read is refused in development too.
    ("https://0251.0376.0251.0376/", False, "not a valid URL"),
])
def test_bad_webhook_urls_are_refused_with_a_reason(url: str, production: bool,
                                                    message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_webhook_url(url, production=production)


@pytest.mark.parametrize("url", BYPASSES)
def test_every_spelling_of_a_loopback_or_metadata_address_is_refused_in_production(
    url: str,
) -> None:
    with pytest.raises(ValueError, match="private, loopback or link-local"):
        validate_webhook_url(url, production=True)


@pytest.mark.parametrize(("address", "public"), [
    ("8.8.8.8", True),
    ("2606:4700::1111", True),
    ("127.0.0.1", False),
    ("10.1.2.3", False),
    ("100.64.0.1", False),  # carrier-grade NAT
    ("169.254.169.254", False),
    ("0.0.0.0", False),
    ("224.0.0.1", False),  # multicast: is_global says True
    ("ff0e::1", False),  # global-scope multicast: is_global says True
    ("::1", False),
    ("fe80::1", False),
    ("fd00::1", False),
    ("::ffff:127.0.0.1", False),
    ("::ffff:8.8.8.8", True),
    ("64:ff9b::7f00:1", False),  # 127.0.0.1 through NAT64: is_global says True
    ("64:ff9b::808:808", True),  # 8.8.8.8 through NAT64
    ("64:ff9b:1::1", False),  # a local NAT64 prefix
    ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1: is_global says True
])
def test_public_addresses_are_global_unicast_including_what_ipv6_carries(
    address: str, public: bool,
) -> None:
    assert public_address(ipaddress.ip_address(address)) is public


def test_good_webhook_urls_pass_and_a_public_numeric_address_stays_allowed() -> None:
    url = " https://hooks.slack.com/services/T0/B0/xyz "
    assert validate_webhook_url(url, production=True) == url.strip()
    assert validate_webhook_url("http://127.0.0.1:9/x", production=False)
    assert validate_webhook_url("https://8.8.8.8/x", production=True)
    assert validate_webhook_url("https://134744072/x", production=True)  # 8.8.8.8 too
    # A name that merely starts with digits is a name, resolved later.
    assert validate_webhook_url("https://1password.example/x", production=True)


def test_a_pinned_request_dials_the_checked_address_and_keeps_the_host_for_http_and_tls() -> None:
    target = WebhookTarget("https://hooks.example.com:8443/services/x?y=1",
                           ("93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"))
    url, headers, tls = target.pinned("93.184.215.14")
    assert url == "https://93.184.215.14:8443/services/x?y=1"
    assert headers == {"Host": "hooks.example.com:8443"}
    assert tls == {"sni_hostname": "hooks.example.com"}
    url, _, _ = target.pinned("2606:2800:21f:cb07:6820:80da:af6b:8b2c")
    assert url == "https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]:8443/services/x?y=1"


def test_each_receiver_has_its_own_secret_and_signatures_cover_the_timestamp() -> None:
    master = "m" * 64
    first, second = uuid.uuid4(), uuid.uuid4()
    mine, theirs = receiver_secret(master, first), receiver_secret(master, second)
    assert mine != theirs and mine.startswith("gbwh_") and len(mine) == 5 + 43
    assert receiver_secret(master, first) == mine  # derived again by the notifier
    assert receiver_secret("n" * 64, first) != mine

    body = json.dumps({"text": "hi"}).encode()
    signature = sign(body, 1_800_000_000, mine)
    assert signature.startswith("v1=") and len(signature) == 3 + 64
    assert verify(body, "1800000000", signature, mine, now=1_800_000_100)
    assert not verify(body + b" ", "1800000000", signature, mine, now=1_800_000_100)
    assert not verify(body, "1800000000", signature, theirs, now=1_800_000_100)
    # A replay with a fresh timestamp does not verify; nor does an old one.
    assert not verify(body, "1800000200", signature, mine, now=1_800_000_200)
    assert not verify(body, "1800000000", signature, mine, now=1_800_000_301)
    assert not verify(body, "-1", signature, mine, now=1_800_000_000)


def test_the_master_secret_is_required_and_strong_in_production_only() -> None:
    assert master_secret("", production=False) == "dev-insecure-webhook-secret"
    strong = "0123456789abcdef" * 4
    assert master_secret(strong, production=True) == strong
    for weak in ("", "CHANGE-ME-webhook-secret", "short"):
        with pytest.raises(ValueError, match="WEBHOOK_SIGNING_SECRET"):
            master_secret(weak, production=True)


async def test_names_are_resolved_and_every_address_must_be_public_in_production() -> None:
    # This machine's own name resolves to a loopback or private address (getaddrinfo, as
    # the notifier resolves at each send).
    with pytest.raises(ValueError, match="resolves to .*not a public address"):
        await resolve_target(f"https://{socket.gethostname()}/hook", production=True,
                             timeout=5)
    local = await resolve_target("http://localhost:9/hook", production=False, timeout=5)
    assert "127.0.0.1" in local.addresses or "::1" in local.addresses
    # Development dials what a number means, as a browser would.
    numeric = await resolve_target("http://2130706433:9/hook", production=False, timeout=5)
    assert numeric.addresses == ("127.0.0.1",)
