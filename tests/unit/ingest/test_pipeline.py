"""Ingest's hit pipeline, step by step and as a whole: pure, with in-memory lookups, no IO."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest
from pydantic import ValidationError

from harness.user_agents import UA_DESKTOP, UA_GOOGLEBOT, UA_IPHONE
from services.ingest.incoming import EventIn
from services.ingest.pipeline import (
    STEPS,
    Drop,
    Hit,
    Pipeline,
    Sender,
    ShareOpen,
    Step,
    build_envelope,
    check_bot,
    check_catalog,
    check_scanner,
    check_share,
    check_time,
    identify_viewer,
    invalid,
    rejection,
)
from services.ingest.visitors import anonymous_viewer_id
from shared.events import DeviceClass, EventEnvelope, RejectReason, Source
from shared.scanners import ScannerNetworks

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
SALT = b"s" * 32
UA_GMAIL = ("Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 "
            "(via ggpht.com GoogleImageProxy)")


class Catalog:
    def __init__(self, *known: str) -> None:
        self.known = set(known)
        self.asked: list[str] = []

    async def url_for(self, asset_id: str) -> str | None:
        self.asked.append(asset_id)
        return f"https://cdn.example.com/{asset_id}.pdf" if asset_id in self.known else None


class Salts:
    def __init__(self) -> None:
        self.asked: list[date] = []

    async def for_day(self, day: date) -> bytes:
        self.asked.append(day)
        return SALT


def sender(user_agent: str = UA_DESKTOP, *, refused: bool = False) -> Sender:
    return Sender(ip="203.0.113.9", user_agent=user_agent, tracking_refused=refused,
                  referrer="https://mail.example.com/inbox", received_at=NOW)


def hit(asset_id: str = "deck", *, by: Sender | None = None, **fields: Any) -> Hit:
    """A pixel view, as the pixel route parses one."""
    payload = {"type": "view", "asset_id": asset_id, "page": fields.get("page")}
    return Hit(by or sender(), "view", Source.PIXEL, asset_id, payload=payload, **fields)


def pipeline(*known: str) -> Pipeline:
    return Pipeline(Catalog(*known), Salts())


def dropped(outcome: object) -> Drop:
    assert isinstance(outcome, Drop), outcome
    return outcome


async def passes(step: Step, given: Hit, lookups: Pipeline | None = None) -> Hit:
    """Run one step that must let the hit through; the hit as the step left it."""
    assert await step(given, lookups or pipeline()) is None
    return given


# --- check_time --------------------------------------------------------------------------

async def test_a_hit_without_a_time_happened_when_it_arrived() -> None:
    assert (await passes(check_time, hit())).occurred_at == NOW


async def test_a_client_time_within_the_window_is_kept() -> None:
    earlier = NOW - timedelta(days=30)
    assert (await passes(check_time, hit(occurred_at=earlier))).occurred_at == earlier


@pytest.mark.parametrize("offset, words", [
    (timedelta(minutes=6), "in the future"),
    (-timedelta(days=32), "older than 31 days"),
])
async def test_a_client_time_too_far_ahead_or_back_is_invalid(
    offset: timedelta, words: str
) -> None:
    drop = dropped(await check_time(hit(occurred_at=NOW + offset), pipeline()))
    assert drop.reason is RejectReason.INVALID and words in drop.message
    assert drop.record.detail == drop.message


# --- check_catalog -----------------------------------------------------------------------

async def test_an_asset_outside_the_catalog_is_dropped_as_unknown() -> None:
    drop = dropped(await check_catalog(hit("nope", page=2), pipeline("deck")))
    assert drop.reason is RejectReason.UNKNOWN_ASSET
    assert drop.message == "unknown asset 'nope'"  # what the batch API and /d/ answer
    record = drop.record
    assert (record.reason, record.detail, record.asset_id, record.source) == (
        RejectReason.UNKNOWN_ASSET, "no asset with this id", "nope", Source.PIXEL)
    assert record.payload == {"type": "view", "asset_id": "nope", "page": 2}


async def test_a_known_asset_passes() -> None:
    lookups = pipeline("deck")
    await passes(check_catalog, hit(), lookups)
    assert lookups.catalog.asked == ["deck"]  # type: ignore[attr-defined]


# --- check_bot ---------------------------------------------------------------------------

async def test_a_crawler_is_dropped_as_a_bot_named_in_the_detail() -> None:
    drop = dropped(await check_bot(hit(by=sender(UA_GOOGLEBOT)), pipeline()))
    assert drop.reason is RejectReason.BOT and drop.record.detail == "Googlebot"


async def test_a_person_gets_their_device_and_a_mail_proxy_counts_as_unknown() -> None:
    phone = await passes(check_bot, hit(by=sender(UA_IPHONE)))
    assert phone.device.device_class is DeviceClass.PHONE and phone.device.os == "iOS"
    proxy = await passes(check_bot, hit(by=sender(UA_GMAIL)))
    assert proxy.device.device_class is DeviceClass.UNKNOWN
    assert proxy.device.browser == "Gmail Image Proxy"


async def test_the_user_agent_an_integration_passes_on_wins_over_the_request_s() -> None:
    drop = dropped(await check_bot(hit(user_agent=UA_GOOGLEBOT), pipeline()))
    assert drop.reason is RejectReason.BOT
    desktop = await passes(check_bot, hit(by=sender(UA_GOOGLEBOT), user_agent=UA_DESKTOP))
    assert desktop.device.device_class is DeviceClass.DESKTOP


# --- identify_viewer ---------------------------------------------------------------------

async def test_a_named_viewer_is_kept_and_no_salt_is_needed() -> None:
    lookups = pipeline()
    assert (await passes(identify_viewer, hit(viewer_id="p1"), lookups)).viewer_id == "p1"
    assert lookups.salts.asked == []  # type: ignore[attr-defined]


async def test_an_anonymous_viewer_is_a_hash_of_today_s_salt_ip_and_user_agent() -> None:
    lookups = pipeline()
    anonymous = await passes(identify_viewer, hit(user_agent=UA_IPHONE), lookups)
    assert anonymous.viewer_id == anonymous_viewer_id(SALT, "203.0.113.9", UA_IPHONE)
    assert lookups.salts.asked == [NOW.date()]  # type: ignore[attr-defined]


async def test_do_not_track_drops_who_it_was_even_a_named_viewer() -> None:
    refused = await passes(identify_viewer, hit(by=sender(refused=True), viewer_id="p1"))
    assert refused.viewer_id is None


# --- the whole pipeline ------------------------------------------------------------------

def test_the_steps_run_time_catalog_share_scanner_bot_viewer_in_that_order() -> None:
    assert STEPS == (check_time, check_catalog, check_share, check_scanner, check_bot,
                     identify_viewer)


LINK = "AbCdEfGhIjKlMnOpQrStUv"
BROWSER = "0123456789abcdef0123456789abcdef"


def share_open(made: timedelta, **fields: Any) -> Hit:
    """A share-link open, as /s/{id} parses one, of a link made ``made`` before it."""
    share = ShareOpen(LINK, NOW - made, BROWSER, **fields)
    return Hit(sender(), "view", Source.SHARE, "deck", viewer_id=f"share:{LINK}:{BROWSER[:12]}",
               payload={"type": "view", "asset_id": "deck", "share": True}, share=share)


async def test_a_share_open_after_the_first_seconds_is_the_recipient_s_view() -> None:
    envelope = await pipeline("deck").decide(share_open(timedelta(seconds=5),
                                                        gate_email_hash="f" * 32))
    assert isinstance(envelope, EventEnvelope)
    assert (envelope.source, envelope.link_id, envelope.browser_key, envelope.gate_email_hash,
            envelope.viewer_id) == (Source.SHARE, LINK, BROWSER, "f" * 32,
                                    f"share:{LINK}:{BROWSER[:12]}")


async def test_a_share_open_as_the_link_is_sent_or_a_head_is_suspect() -> None:
    soon = dropped(await pipeline("deck").decide(share_open(timedelta(seconds=1.25))))
    assert (soon.reason, soon.message) == (RejectReason.SUSPECT,
                                           "fetched 1.2 s after the link was made")
    head = dropped(await pipeline("deck").decide(share_open(timedelta(hours=1), head=True)))
    assert (head.reason, head.record.source) == (RejectReason.SUSPECT, Source.SHARE)
    assert LINK not in str(head.record.payload)
    lenient = Pipeline(Catalog("deck"), Salts(), share_scanner_seconds=0)
    assert isinstance(await lenient.decide(share_open(timedelta(0))), EventEnvelope)


async def test_share_opens_from_scanner_networks_and_bots_do_not_count() -> None:
    by_scanner = share_open(timedelta(hours=1))
    by_scanner.sender = sent_from("40.107.5.5")
    assert dropped(await pipeline("deck").decide(by_scanner)).reason is RejectReason.SUSPECT
    by_bot = share_open(timedelta(hours=1))
    by_bot.sender = sent_from("203.0.113.9", UA_GOOGLEBOT)
    assert dropped(await pipeline("deck").decide(by_bot)).reason is RejectReason.BOT


def sent_from(ip: str, user_agent: str = UA_DESKTOP) -> Sender:
    return Sender(ip=ip, user_agent=user_agent, tracking_refused=False, referrer=None,
                  received_at=NOW)


async def test_apple_s_image_proxy_is_a_machine_open_not_a_bot() -> None:
    outcome = dropped(await pipeline("deck").decide(hit(by=sent_from("17.58.1.2", "Mozilla/5.0"))))
    assert outcome.reason is RejectReason.MACHINE_OPEN
    assert "Apple Mail Privacy Protection" in outcome.record.detail


async def test_a_person_on_an_iphone_opening_the_email_still_counts() -> None:
    assert isinstance(await pipeline("deck").decide(hit(by=sent_from("17.58.1.2", UA_IPHONE))),
                      EventEnvelope)


async def test_a_link_from_a_mail_scanner_s_network_is_suspect_and_names_it() -> None:
    link = Hit(sent_from("40.107.22.9"), "download", Source.LINK, "deck")
    outcome = dropped(await pipeline("deck").decide(link))
    assert outcome.reason is RejectReason.SUSPECT
    assert outcome.record.detail == "known scanner network: Microsoft Exchange Online Protection"


async def test_a_server_side_integration_is_never_judged_by_its_own_address() -> None:
    api = Hit(sent_from("40.107.22.9"), "view", Source.API, "deck")
    assert isinstance(await pipeline("deck").decide(api), EventEnvelope)


async def test_operators_add_scanner_ranges() -> None:
    lookups = Pipeline(Catalog("deck"), Salts(), ScannerNetworks(["198.51.100.0/24"]))
    outcome = dropped(await lookups.decide(hit(by=sent_from("198.51.100.77"))))
    assert outcome.record.detail == "known scanner network: configured scanner network"


async def test_an_accepted_hit_becomes_its_envelope() -> None:
    view_id = UUID("99999999-2222-4333-8444-555555555555")
    event_id = UUID("11111111-2222-4333-8444-555555555555")
    given = Hit(sender(), "dwell", Source.BEACON, "deck", viewer_id="rep-ann",
                occurred_at=NOW - timedelta(minutes=1), referrer="https://www.bing.com/search",
                event_id=event_id, view_id=view_id, engaged_ms=5, wall_ms=9)
    envelope = await pipeline("deck").decide(given)
    assert isinstance(envelope, EventEnvelope)
    assert envelope.model_dump(exclude={"device"}) == EventEnvelope(
        event_id=event_id, type="dwell", asset_id="deck", viewer_id="rep-ann",
        occurred_at=NOW - timedelta(minutes=1), received_at=NOW, page=None,
        referrer_host="www.bing.com", source=Source.BEACON, view_id=view_id,
        engaged_ms=5, wall_ms=9,
    ).model_dump(exclude={"device"})
    assert envelope.device.device_class is DeviceClass.DESKTOP


async def test_each_accepted_hit_gets_a_fresh_event_id_unless_it_brought_one() -> None:
    decide = pipeline("deck").decide
    first, second = await decide(hit(viewer_id="p1")), await decide(hit(viewer_id="p1"))
    assert isinstance(first, EventEnvelope) and isinstance(second, EventEnvelope)
    assert first.event_id != second.event_id


async def test_the_first_step_to_drop_gives_the_one_reason_and_later_steps_do_not_run() -> None:
    lookups = pipeline("deck")
    late_bot = hit("nope", occurred_at=NOW + timedelta(hours=1), user_agent=UA_GOOGLEBOT)
    assert dropped(await lookups.decide(late_bot)).reason is RejectReason.INVALID
    assert lookups.catalog.asked == []  # type: ignore[attr-defined]
    unknown_bot = hit("nope", user_agent=UA_GOOGLEBOT)
    assert dropped(await lookups.decide(unknown_bot)).reason is RejectReason.UNKNOWN_ASSET
    bot = hit("deck", user_agent=UA_GOOGLEBOT)
    assert dropped(await lookups.decide(bot)).reason is RejectReason.BOT
    assert lookups.salts.asked == []  # type: ignore[attr-defined]


async def test_a_viewer_the_route_did_not_check_fails_the_envelope_not_silently() -> None:
    with pytest.raises(ValidationError, match="viewer_id"):
        await pipeline("deck").decide(hit(viewer_id="v" * 129))
    # Under Do-Not-Track the named viewer is never used, so it cannot fail.
    refused = hit(by=sender(refused=True), viewer_id="v" * 129)
    assert isinstance(await pipeline("deck").decide(refused), EventEnvelope)


# --- what a rejection keeps --------------------------------------------------------------

def test_a_rejection_keeps_the_hit_but_never_who_sent_it() -> None:
    item = EventIn.model_validate({"type": "view", "asset_id": "deck", "viewer_id": "bv",
                                   "referrer": "https://x.example", "user_agent": UA_GOOGLEBOT,
                                   "page": 4})
    record = rejection(RejectReason.BOT, "Googlebot", "deck", Source.API, item)
    assert record.payload == {"type": "view", "asset_id": "deck", "page": 4, "source": "api"}


def test_a_rejection_bounds_its_detail_and_asset_id() -> None:
    record = rejection(RejectReason.INVALID, "x" * 600, "", Source.PIXEL, {"page": None})
    assert len(record.detail) == 500 and record.asset_id is None and record.payload == {}
    assert rejection(RejectReason.INVALID, "", "a" * 300, None, {}).asset_id == "a" * 200


def test_an_unparsable_request_is_kept_as_sent_without_the_viewer() -> None:
    drop = invalid("page must be between 1 and 10000", "deck", Source.PIXEL,
                   {"asset": "deck", "page": "0", "viewer": "p1"})
    assert drop.reason is RejectReason.INVALID and drop.message == drop.record.detail
    assert drop.record.payload == {"asset": "deck", "page": "0"}


def test_build_envelope_works_on_a_hit_no_step_has_seen() -> None:
    envelope = build_envelope(hit(viewer_id="p1", page=3))
    assert (envelope.occurred_at, envelope.page, envelope.referrer_host) == (
        NOW, 3, None)  # the pixel's referrer comes from its route, not the sender
    assert envelope.device.device_class is DeviceClass.UNKNOWN
