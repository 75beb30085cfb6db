"""The one decision about a hit, for every endpoint: pixel, download and share links, beacon,
batch API.

A route parses its request into a :class:`Hit`; :meth:`Pipeline.decide` runs :data:`STEPS`
top to bottom, each filling in the hit or dropping it, and the first to drop it gives the
one reason (Plausible's ingestion pipeline). What survives becomes an
:class:`EventEnvelope`; a :class:`Drop` carries the record ``events-rejected`` keeps. The
catalog and the day's salt are cached, so a hit costs no database round trip.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol
from uuid import UUID

from pydantic import BaseModel, ValidationError

from shared.events import (
    Device,
    DeviceClass,
    EventEnvelope,
    RejectedEvent,
    RejectReason,
    Source,
    describe_errors,
)
from shared.scanners import SHARE_SCANNER_SECONDS, ScannerNetworks, fetched_too_soon, machine_open

from .enrich import device_for, referrer_host
from .incoming import check_event_time
from .visitors import anonymous_viewer_id

__all__ = [
    "STEPS",
    "Catalog",
    "Drop",
    "Hit",
    "Pipeline",
    "Salts",
    "Sender",
    "ShareOpen",
    "Step",
    "build_envelope",
    "check_bot",
    "check_catalog",
    "check_scanner",
    "check_share",
    "check_time",
    "identify_viewer",
    "invalid",
    "rejection",
    "short_error",
]

#: Never kept in rejected events: who it was (DNT or not) and where they came from.
_IDENTIFYING = frozenset({"viewer", "viewer_id", "referrer", "user_agent"})
_NO_DEVICE = Device()


class Catalog(Protocol):
    async def url_for(self, asset_id: str) -> str | None: ...


class Salts(Protocol):
    async def for_day(self, day: date) -> bytes: ...


@dataclass(frozen=True)
class Sender:
    """What one HTTP request tells us about who sent its hits. ``ip`` is only ever hashed."""

    ip: str
    user_agent: str
    tracking_refused: bool
    referrer: str | None
    received_at: datetime


@dataclass(frozen=True)
class ShareOpen:
    """What a share-link open (``/s/{id}``) adds to its hit: the link, from ingest's cache,
    and the browser, from ingest's own cookie; never from a query parameter."""

    link_id: str
    link_created_at: datetime
    browser_key: str
    gate_email_hash: str | None = None
    #: A HEAD request: answered, never counted.
    head: bool = False


@dataclass(slots=True)
class Hit:
    """One hit as its route parsed it; the steps fill in ``occurred_at``, ``device`` and
    ``viewer_id`` as they go. Mutable, as a copy per step would cost more than the rest
    of the decision (three copies: ~10 µs a hit)."""

    sender: Sender
    type: str
    source: Source
    asset_id: str
    #: A known viewer the client named; after :func:`identify_viewer`, the envelope's.
    viewer_id: str | None = None
    #: A client-supplied event time; None: when the request arrived.
    occurred_at: datetime | None = None
    page: int | None = None
    referrer: str | None = None
    #: The end user's User-Agent, passed on by a server-side integration; None: the sender's.
    user_agent: str | None = None
    event_id: UUID | None = None
    view_id: UUID | None = None
    engaged_ms: int | None = None
    wall_ms: int | None = None
    play_id: UUID | None = None
    media_ms: int | None = None
    duration_ms: int | None = None
    watched: str | None = None
    #: What a rejection keeps of the hit; a model is only dumped if the hit is dropped.
    payload: Mapping[str, object] | BaseModel = field(default_factory=dict)
    #: Set by :func:`check_bot`.
    device: Device = _NO_DEVICE
    #: Set by the share-link route, for its opens only.
    share: ShareOpen | None = None

    @property
    def agent(self) -> str:
        return self.user_agent if self.user_agent is not None else self.sender.user_agent


@dataclass(frozen=True)
class Drop:
    """A hit that will not be counted: its one reason, what its sender is told, and the
    record kept on ``events-rejected``."""

    reason: RejectReason
    message: str
    record: RejectedEvent


def rejection(
    reason: RejectReason,
    detail: str,
    asset_id: str | None,
    source: Source | None,
    raw: Mapping[str, object] | BaseModel,
) -> RejectedEvent:
    """The rejected-topic record of a hit, without who sent it or where they came from."""
    fields = raw.model_dump(mode="json") if isinstance(raw, BaseModel) else raw
    return RejectedEvent(
        reason=reason,
        detail=detail[:500],
        asset_id=(asset_id or "")[:200] or None,
        source=source,
        payload={k: v for k, v in fields.items() if v is not None and k not in _IDENTIFYING},
    )


def invalid(
    detail: str, asset_id: str | None, source: Source, raw: Mapping[str, object]
) -> Drop:
    """A request its route could not parse into a hit, kept as it was sent."""
    return Drop(RejectReason.INVALID, detail, rejection(RejectReason.INVALID, detail,
                                                        asset_id, source, raw))


def short_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return describe_errors(exc)[:500]
    return str(exc)[:500]


def _drop(hit: Hit, reason: RejectReason, detail: str, message: str | None = None) -> Drop:
    record = rejection(reason, detail, hit.asset_id, hit.source, hit.payload)
    return Drop(reason, message or detail, record)


# --- the steps, in the order they run --------------------------------------------------


async def check_time(hit: Hit, pipeline: Pipeline) -> Drop | None:
    """A client-supplied time must be recent and not ahead of our clock: ``invalid``."""
    hit.occurred_at = hit.occurred_at or hit.sender.received_at
    problem = check_event_time(hit.occurred_at, hit.sender.received_at)
    return _drop(hit, RejectReason.INVALID, problem) if problem else None


async def check_catalog(hit: Hit, pipeline: Pipeline) -> Drop | None:
    """Only assets in the catalog are counted: ``unknown_asset``."""
    if await pipeline.catalog.url_for(hit.asset_id) is None:
        return _drop(hit, RejectReason.UNKNOWN_ASSET, "no asset with this id",
                     f"unknown asset {hit.asset_id!r}")
    return None


async def check_bot(hit: Hit, pipeline: Pipeline) -> Drop | None:
    """The device, from the User-Agent; crawlers and monitors are kept out: ``bot``."""
    hit.device = await device_for(hit.agent)
    if hit.device.device_class is DeviceClass.BOT:
        return _drop(hit, RejectReason.BOT, hit.device.browser or "bot")
    return None


async def check_share(hit: Hit, pipeline: Pipeline) -> Drop | None:
    """A share-link open that is a HEAD or came within seconds of the link being made is a
    link checker's or a scanner's fetch, not the recipient: ``suspect``."""
    if hit.share is None:
        return None
    if hit.share.head:
        return _drop(hit, RejectReason.SUSPECT, "HEAD request: a link checker, not a reader")
    why = fetched_too_soon(hit.share.link_created_at, hit.sender.received_at,
                           pipeline.share_scanner_seconds)
    return _drop(hit, RejectReason.SUSPECT, why) if why else None


#: The sources a mail scanner or Apple's image proxy can reach: an email's pixel and links,
#: share links, and a page script a scanner's browser ran. A server-side integration's
#: address is its server's, so ``api`` hits are never judged by it.
_SCANNED_SOURCES = frozenset({Source.PIXEL, Source.LINK, Source.SHARE, Source.BEACON})


async def check_scanner(hit: Hit, pipeline: Pipeline) -> Drop | None:
    """Apple's image proxy (``machine_open``) and mail scanners' networks (``suspect``):
    not a person reading (shared/scanners.py). Before the bot rules, which would call
    the proxy's bare User-Agent a bot."""
    if hit.source not in _SCANNED_SOURCES:
        return None
    if hit.source is Source.PIXEL and (why := machine_open(hit.agent, hit.sender.ip)):
        return _drop(hit, RejectReason.MACHINE_OPEN, why)
    if network := pipeline.scanners.owner(hit.sender.ip):
        return _drop(hit, RejectReason.SUSPECT, f"known scanner network: {network}")
    return None


async def identify_viewer(hit: Hit, pipeline: Pipeline) -> Drop | None:
    """The viewer the client named, else a daily-salted anonymous hash; none under DNT/GPC."""
    if hit.sender.tracking_refused:
        hit.viewer_id = None
    elif not hit.viewer_id:
        salt = await pipeline.salts.for_day(hit.sender.received_at.date())
        hit.viewer_id = anonymous_viewer_id(salt, hit.sender.ip, hit.agent)
    return None


#: A step fills in the hit, or drops it by returning why.
Step = Callable[[Hit, "Pipeline"], Awaitable[Drop | None]]
STEPS: tuple[Step, ...] = (check_time, check_catalog, check_share, check_scanner, check_bot,
                           identify_viewer)


def build_envelope(hit: Hit) -> EventEnvelope:
    """The envelope for a hit every step let through.

    Raises ValidationError when a field the route passed on unchecked (a pixel's viewer)
    cannot be in an envelope; the route says what an unparsable request gets.
    """
    share = hit.share
    return EventEnvelope(
        **({"event_id": hit.event_id} if hit.event_id else {}),
        **({"link_id": share.link_id, "browser_key": share.browser_key,
            "gate_email_hash": share.gate_email_hash} if share else {}),
        type=hit.type, asset_id=hit.asset_id, source=hit.source, viewer_id=hit.viewer_id,
        occurred_at=hit.occurred_at or hit.sender.received_at, received_at=hit.sender.received_at,
        device=hit.device, page=hit.page, referrer_host=referrer_host(hit.referrer),
        view_id=hit.view_id, engaged_ms=hit.engaged_ms, wall_ms=hit.wall_ms,
        play_id=hit.play_id, media_ms=hit.media_ms, duration_ms=hit.duration_ms,
        watched=hit.watched,
    )


@dataclass(frozen=True)
class Pipeline:
    """The cached lookups the steps decide against."""

    catalog: Catalog
    salts: Salts
    scanners: ScannerNetworks = field(default_factory=ScannerNetworks)
    #: A share link opened sooner than this after it was made: a scanner's fetch.
    share_scanner_seconds: float = SHARE_SCANNER_SECONDS

    async def decide(self, hit: Hit) -> EventEnvelope | Drop:
        """Run every step in order on ``hit``; the first to drop it decides why."""
        for step in STEPS:
            drop = await step(hit, self)
            if drop is not None:
                return drop
        return build_envelope(hit)
