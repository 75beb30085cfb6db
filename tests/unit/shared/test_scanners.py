"""The machine-open and scanner rules every counting edge shares: pure, no IO."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from uuid import UUID, uuid4

import pytest

from harness.user_agents import UA_DESKTOP, UA_IPHONE
from shared.scanners import (
    SHARE_SCANNER_SECONDS,
    BurstRule,
    LinkHit,
    ScannerNetworks,
    fetched_too_soon,
    machine_open,
    suspect_bursts,
)

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
RULE = BurstRule(window=timedelta(seconds=10), links=3)


def link(client: str, asset: str, seconds: float) -> LinkHit:
    return LinkHit(uuid4(), client, asset, T0 + timedelta(seconds=seconds))


@pytest.mark.parametrize(("user_agent", "ip"), [
    ("Mozilla/5.0", "203.0.113.5"),          # the proxy's bare User-Agent, from anywhere
    ("Mozilla/5.0 ", "17.0.0.1"),
    ("", "17.120.3.4"),                      # no browser from Apple's network
    ("Mozilla/5.0", "::ffff:17.1.2.3"),      # IPv4-mapped address
])
def test_apple_mail_privacy_protection_fetches_are_machine_opens(user_agent: str, ip: str) -> None:
    assert machine_open(user_agent, ip) is not None


@pytest.mark.parametrize(("user_agent", "ip"), [
    (UA_IPHONE, "17.58.1.2"),                # a person at Apple, in Mail without MPP
    (UA_DESKTOP, "203.0.113.5"),
    ("Mozilla/5.0 (compatible; Foo)", "203.0.113.5"),
    ("curl/8", "not an address"),
])
def test_a_real_open_is_not_a_machine_open(user_agent: str, ip: str) -> None:
    assert machine_open(user_agent, ip) is None


def test_known_scanner_networks_are_named_and_others_are_not() -> None:
    networks = ScannerNetworks(["192.0.2.0/25", " "])
    assert networks.owner("40.92.3.4") == "Microsoft Exchange Online Protection"
    assert networks.owner("2a01:111:f400:7e1b::5") == "Microsoft Exchange Online Protection"
    assert networks.owner("67.231.150.1") == "Proofpoint"
    assert networks.owner("192.0.2.7") == "configured scanner network"
    assert networks.owner("192.0.2.200") is None
    assert networks.owner("203.0.113.9") is None
    assert networks.owner("garbage") is None


def test_a_bad_configured_range_is_refused() -> None:
    with pytest.raises(ValueError):
        ScannerNetworks(["10.0.0.0/33"])


def test_every_link_of_a_burst_is_suspect_with_its_size_and_span() -> None:
    hits = [link("scanner", "a", 0), link("scanner", "b", 0.4), link("scanner", "c", 1.2)]
    suspect = suspect_bursts(hits, [], RULE)
    assert set(suspect) == {h.event_id for h in hits}
    assert suspect[hits[0].event_id] == (
        "burst: 3 different links in 1.2 s from one client, no engagement")


def test_a_person_opening_links_minutes_apart_is_no_burst() -> None:
    hits = [link("ann", "a", 0), link("ann", "b", 60), link("ann", "c", 120)]
    assert suspect_bursts(hits, [], RULE) == {}


def test_the_same_link_clicked_again_is_no_burst() -> None:
    hits = [link("ann", "a", 0), link("ann", "a", 1), link("ann", "b", 2)]
    assert suspect_bursts(hits, [], RULE) == {}


def test_bursts_are_per_client() -> None:
    hits = [link("ann", "a", 0), link("bob", "b", 0.1), link("cy", "c", 0.2)]
    assert suspect_bursts(hits, [], RULE) == {}


def test_engagement_meanwhile_clears_a_burst() -> None:
    hits = [link("ann", "a", 0), link("ann", "b", 1), link("ann", "c", 2)]
    assert suspect_bursts(hits, ["ann"], RULE) == {}


def test_only_the_hits_inside_the_window_are_suspect() -> None:
    early = link("scanner", "z", -30)
    burst = [link("scanner", "a", 0), link("scanner", "b", 2), link("scanner", "c", 4)]
    suspect = suspect_bursts([early, *burst], [], RULE)
    assert set(suspect) == {h.event_id for h in burst}
    assert isinstance(next(iter(suspect)), UUID)


def test_a_share_link_fetched_within_seconds_of_being_made_is_a_scanner() -> None:
    made = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)
    assert fetched_too_soon(made, made + timedelta(seconds=0.4)) == (
        "fetched 0.4 s after the link was made")
    assert fetched_too_soon(made, made - timedelta(seconds=2)) == (
        "fetched 0.0 s after the link was made")  # clocks a little apart
    assert fetched_too_soon(made, made + timedelta(seconds=SHARE_SCANNER_SECONDS)) is None
    assert fetched_too_soon(made, made + timedelta(seconds=3), seconds=2) is None
