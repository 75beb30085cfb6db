"""Pure share-link visit rules: which opens are the recipient's, which are forwards, what
dwell adds to a visit, and the LinkVisitUpdate of each visit a batch named.

No IO and no clock here: share_store.py feeds in the link's visits so far and writes back
what these functions return.

The recipient is the browser of the link's first counted open. An open from another
browser, or from the recipient's browser with a different gate email, is a forward; each
forwarded viewer (a browser, told apart by gate email when both gave one) keeps its number,
1, 2, ... in the order they first opened. A forward is never merged into the recipient.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from shared.events import EventEnvelope, EventType, RejectReason, Source
from shared.share_links import LinkVisitUpdate

__all__ = [
    "DwellGain",
    "LinkInfo",
    "Visit",
    "decide_opens",
    "dwell_gains",
    "is_share_open",
    "link_refusal",
    "visit_updates",
]


@dataclass(frozen=True)
class LinkInfo:
    """What the aggregator reads of a share link (ratings owns the table)."""

    link_id: str
    asset_id: str
    creator_id: int
    asset_deleted: bool


@dataclass(frozen=True)
class Visit:
    """One row of ``link_visits``."""

    event_id: UUID
    link_id: str
    asset_id: str
    opened_at: datetime
    browser_key: str
    forwarded: bool
    forward_no: int | None
    gate_email_hash: str | None = None
    device_class: str = "unknown"
    os: str | None = None
    browser: str | None = None
    engaged_ms: int = 0
    pages: tuple[int, ...] = ()


@dataclass
class DwellGain:
    """What a batch's dwell slices add to one visit."""

    engaged_ms: int = 0
    pages: set[int] = field(default_factory=set)


def is_share_open(event: EventEnvelope) -> bool:
    return event.type == EventType.VIEW and event.source is Source.SHARE


def link_refusal(
    event: EventEnvelope, links: Mapping[str, LinkInfo]
) -> tuple[RejectReason, str] | None:
    """Why a share open never counts (it goes to rejected_events, view and all), or None.
    Ingest only sends opens of links it knows: anything else is forged or stale."""
    if event.link_id is None or event.browser_key is None:
        return RejectReason.INVALID, "share open without a link id or browser key"
    link = links.get(event.link_id)
    if link is None:
        return RejectReason.INVALID, "no share link with this id"
    if link.asset_id != event.asset_id:
        return RejectReason.INVALID, "the share link is for another asset"
    if link.asset_deleted:
        return RejectReason.UNKNOWN_ASSET, "the share link's asset was deleted"
    return None


def _same_viewer(visit: Visit, browser_key: str, gate: str | None) -> bool:
    """Same browser, and no two different gate emails (one missing is no conflict)."""
    if visit.browser_key != browser_key:
        return False
    return gate is None or visit.gate_email_hash is None or gate == visit.gate_email_hash


def _recipient(visits: Sequence[Visit]) -> tuple[str, str | None] | None:
    """The recipient's browser key and gate email (the first given), from its visits."""
    own = [v for v in visits if not v.forwarded]
    if not own:
        return None
    gate = next((v.gate_email_hash for v in own if v.gate_email_hash is not None), None)
    return own[0].browser_key, gate


def decide_opens(prior: Sequence[Visit], opens: Iterable[EventEnvelope]) -> list[Visit]:
    """The visits ``opens`` (new share opens of one link) make, after the link's ``prior``
    visits, in the order they were opened."""
    visits = sorted(prior, key=_order)
    made: list[Visit] = []
    for event in sorted(opens, key=lambda e: (e.occurred_at, str(e.event_id))):
        assert event.link_id is not None and event.browser_key is not None
        key, gate = event.browser_key, event.gate_email_hash
        recipient = _recipient(visits)
        forwarded, number = False, None
        if recipient is not None:
            recipient_key, recipient_gate = recipient
            is_recipient = key == recipient_key and (
                gate is None or recipient_gate is None or gate == recipient_gate)
            if not is_recipient:
                forwarded = True
                earlier = next((v for v in visits if v.forwarded and _same_viewer(v, key, gate)),
                               None)
                number = earlier.forward_no if earlier is not None else 1 + max(
                    (v.forward_no or 0 for v in visits), default=0)
        visit = Visit(
            event_id=event.event_id, link_id=event.link_id, asset_id=event.asset_id,
            opened_at=event.occurred_at, browser_key=key, forwarded=forwarded,
            forward_no=number, gate_email_hash=gate,
            device_class=event.device.device_class.value, os=event.device.os,
            browser=event.device.browser,
        )
        visits.append(visit)
        made.append(visit)
    return made


def dwell_gains(events: Iterable[EventEnvelope]) -> dict[UUID, DwellGain]:
    """Engaged time and pages of dwell slices, per view_id: those with either, only."""
    gains: dict[UUID, DwellGain] = {}
    for event in events:
        if event.type != EventType.DWELL or event.view_id is None:
            continue
        if not event.engaged_ms and event.page is None:
            continue
        gain = gains.setdefault(event.view_id, DwellGain())
        gain.engaged_ms += event.engaged_ms or 0
        if event.page is not None:
            gain.pages.add(event.page)
    return gains


def _order(visit: Visit) -> tuple[datetime, str]:
    return visit.opened_at, str(visit.event_id)


def visit_updates(
    visits: Sequence[Visit], named: set[UUID], creators: Mapping[str, int], now: datetime
) -> list[LinkVisitUpdate]:
    """The state of each visit in ``named``, from all the visits of its link: whether it is
    the link's first open, and the recipient's open before it (for "re-opened")."""
    by_link: dict[str, list[Visit]] = {}
    for visit in sorted(visits, key=_order):
        by_link.setdefault(visit.link_id, []).append(visit)
    updates = []
    for link_id, link_visits in sorted(by_link.items()):
        previous_own: datetime | None = None
        for index, visit in enumerate(link_visits):
            if visit.event_id in named and link_id in creators:
                updates.append(LinkVisitUpdate(
                    link_id=link_id, event_id=str(visit.event_id), asset_id=visit.asset_id,
                    creator_id=creators[link_id], opened_at=visit.opened_at,
                    first_open=index == 0,
                    previous_open_at=None if visit.forwarded else previous_own,
                    forwarded=visit.forwarded, forward_no=visit.forward_no,
                    device_class=visit.device_class, os=visit.os, browser=visit.browser,
                    engaged_ms=visit.engaged_ms, pages=sorted(visit.pages), updated_at=now,
                ))
            if not visit.forwarded:
                previous_own = visit.opened_at
    return updates
