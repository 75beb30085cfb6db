"""The pure share-link visit rules: recipient and forwards, dwell gains, visit updates."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from uuid import uuid4

from services.aggregator.link_visits import (
    LinkInfo,
    Visit,
    decide_opens,
    dwell_gains,
    link_refusal,
    visit_updates,
)
from shared.events import Device, DeviceClass, EventEnvelope, RejectReason, Source
from shared.share_links import browser_key, gate_email_hash, new_link_id

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
LINK = new_link_id()
ALICE, BOB, CAROL = (browser_key(LINK, name) for name in ("alice", "bob", "carol"))


def open_(browser: str, at: datetime = T0, gate: str | None = None, *,
          link: str = LINK, asset: str = "case-study") -> EventEnvelope:
    return EventEnvelope(type="view", asset_id=asset, viewer_id=f"share:{browser[:12]}",
                         occurred_at=at, source=Source.SHARE, link_id=link, browser_key=browser,
                         gate_email_hash=gate, device=Device(device_class=DeviceClass.PHONE))


def dwell(view: EventEnvelope, ms: int, page: int | None = None) -> EventEnvelope:
    return EventEnvelope(type="dwell", asset_id=view.asset_id, view_id=view.event_id,
                         occurred_at=view.occurred_at, engaged_ms=ms, wall_ms=ms, page=page,
                         source=Source.BEACON)


def forwards(visits: list[Visit]) -> list[int | None]:
    return [v.forward_no for v in visits]


def test_the_first_browser_is_the_recipient_and_every_other_a_numbered_forward() -> None:
    opens = [open_(ALICE), open_(BOB, T0 + timedelta(minutes=1)),
             open_(ALICE, T0 + timedelta(minutes=2)), open_(CAROL, T0 + timedelta(minutes=3)),
             open_(BOB, T0 + timedelta(minutes=4))]
    visits = decide_opens([], opens)
    assert [v.forwarded for v in visits] == [False, True, False, True, True]
    assert forwards(visits) == [None, 1, None, 2, 1]


def test_opens_are_decided_in_the_order_they_happened_not_the_order_they_came() -> None:
    later, earlier = open_(BOB, T0 + timedelta(minutes=5)), open_(ALICE, T0)
    visits = {v.browser_key: v for v in decide_opens([], [later, earlier])}
    assert not visits[ALICE].forwarded and visits[BOB].forward_no == 1


def test_prior_visits_decide_the_recipient_and_the_next_forward_number() -> None:
    prior = decide_opens([], [open_(ALICE), open_(BOB, T0 + timedelta(minutes=1))])
    made = decide_opens(prior, [open_(CAROL, T0 + timedelta(days=1)),
                                open_(ALICE, T0 + timedelta(days=1, minutes=1))])
    assert [(v.browser_key, v.forwarded, v.forward_no) for v in made] == [
        (CAROL, True, 2), (ALICE, False, None)]


def test_a_different_gate_email_on_the_recipients_browser_is_a_forward() -> None:
    mine, theirs = gate_email_hash(LINK, "pat@acme.com"), gate_email_hash(LINK, "sam@acme.com")
    visits = decide_opens([], [open_(ALICE, T0, mine),
                               open_(ALICE, T0 + timedelta(minutes=1), theirs),
                               open_(ALICE, T0 + timedelta(minutes=2), mine.upper().lower()),
                               open_(ALICE, T0 + timedelta(minutes=3), None),
                               open_(ALICE, T0 + timedelta(minutes=4), theirs)])
    assert [v.forwarded for v in visits] == [False, True, False, False, True]
    assert forwards(visits) == [None, 1, None, None, 1]


def test_link_refusals_name_why_the_open_never_counts() -> None:
    links = {LINK: LinkInfo(LINK, "case-study", 7, asset_deleted=False)}
    assert link_refusal(open_(ALICE), links) is None
    assert link_refusal(open_(ALICE, link=new_link_id()), links) == (
        RejectReason.INVALID, "no share link with this id")
    assert link_refusal(open_(ALICE, asset="other"), links) == (
        RejectReason.INVALID, "the share link is for another asset")
    deleted = {LINK: replace(links[LINK], asset_deleted=True)}
    assert link_refusal(open_(ALICE), deleted) is not None
    assert link_refusal(open_(ALICE), deleted)[0] is RejectReason.UNKNOWN_ASSET  # type: ignore[index]
    no_browser = open_(ALICE).model_copy(update={"browser_key": None})
    assert link_refusal(no_browser, links) is not None


def test_dwell_gains_sum_engaged_time_and_pages_per_view() -> None:
    view, other = open_(ALICE), open_(BOB)
    gains = dwell_gains([view, dwell(view, 1500, 1), dwell(view, 500, 3), dwell(view, 0),
                         dwell(other, 0), dwell(view, 250, 1)])
    assert set(gains) == {view.event_id}  # a slice with neither time nor page adds nothing
    assert gains[view.event_id].engaged_ms == 2250 and gains[view.event_id].pages == {1, 3}


def test_updates_say_first_open_and_the_recipients_previous_open() -> None:
    opens = [open_(ALICE), open_(BOB, T0 + timedelta(days=1)),
             open_(ALICE, T0 + timedelta(days=9))]
    visits = decide_opens([], opens)
    visits[2] = replace(visits[2], engaged_ms=4000, pages=(2, 1))
    now = T0 + timedelta(days=10)
    updates = visit_updates(visits, {v.event_id for v in visits} | {uuid4()}, {LINK: 7}, now)
    assert [u.first_open for u in updates] == [True, False, False]
    assert [u.previous_open_at for u in updates] == [None, None, T0]
    assert [u.forward_no for u in updates] == [None, 1, None]
    assert updates[2].engaged_ms == 4000 and updates[2].pages == [1, 2]
    assert {u.creator_id for u in updates} == {7} and updates[0].updated_at == now
    assert updates[0].event_id == str(opens[0].event_id) and updates[0].device_class == "phone"
    only_last = visit_updates(visits, {visits[2].event_id}, {LINK: 7}, now)
    assert [u.event_id for u in only_last] == [str(visits[2].event_id)]
    assert visit_updates(visits, {visits[0].event_id}, {}, now) == []
