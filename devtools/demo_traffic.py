"""The demo's sample catalog and its seeded history of tracking events.

Pure: no IO and no clock. ``now`` and the seed come in, so the same inputs always give
the same events, and a test can recompute exactly what ``glassboard dev --demo`` replayed.

The story: Northwind, a B2B data-platform vendor, has 13 marketing assets. Six sales reps
open them on desktops in working hours and on phones on the road; a few hundred named
prospects open them from emails (mostly phones) and on the website (mostly desktops);
anonymous visitors read the blog. Some assets rise, some decline, two went stale.
"""

from __future__ import annotations

import csv
import io
import math
import random
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Literal, TypeVar

from services.ratings.catalog.models import AssetIn
from shared.events import Device, DeviceClass, EventEnvelope, EventType, Source

__all__ = [
    "DEMO_ASSETS",
    "DEMO_SEED",
    "HISTORY_DAYS",
    "HISTORY_GAP",
    "SITE_HOST",
    "STALE_ASSET_IDS",
    "DemoAsset",
    "assets_csv",
    "generate_history",
]

DEMO_SEED = 2026
HISTORY_DAYS = 120
#: History stops this long before ``now``: a live demo hit can then never fall inside the
#: 30 s double-click window of a replayed hit by the same viewer.
HISTORY_GAP = timedelta(minutes=10)
#: Two sessions of one viewer on one asset are kept further apart than the 30 s
#: double-click window, so every generated view and download counts and totals are exact.
_SESSION_SPACING = timedelta(seconds=31)
#: Expected sessions per weekday for an asset of popularity 1.0.
_BASE_SESSIONS = 6.0

SITE_HOST = "www.northwind.example.com"
_SITE = f"https://{SITE_HOST}"
_CDN = "https://cdn.northwind.example.com"

_PRODUCT = "maya.chen@northwind.example.com"
_CONTENT = "liam.osei@northwind.example.com"
_CUSTOMERS = "sofia.rossi@northwind.example.com"
_DEMAND = "jonas.weber@northwind.example.com"

Kind = Literal["rep", "prospect", "anon", "dnt"]
Channel = Literal["email", "web", "link"]
T = TypeVar("T")


@dataclass(frozen=True)
class DemoAsset:
    """A catalog row plus how its traffic behaves over the history."""

    asset: AssetIn
    #: Relative traffic: 1.0 is about six sessions on a weekday.
    popularity: float
    #: Traffic now divided by traffic 120 days ago: > 1 rising, < 1 declining.
    trend: float
    #: Slides in a deck: beacon views of a deck carry ``page``.
    pages: int | None = None
    #: No traffic in the last N days (> 30 makes it stale content).
    quiet_since_days: int = 0
    #: Published N days ago: no traffic before.
    launched_days_ago: int | None = None
    #: Days ago an email campaign pushed it (triple traffic that day).
    campaigns: tuple[int, ...] = ()

    @property
    def id(self) -> str:
        return self.asset.id


def _asset(asset_id: str, title: str, kind: str, url: str, owner: str) -> AssetIn:
    return AssetIn.model_validate(
        {"id": asset_id, "title": title, "type": kind, "url": url, "owner_email": owner}
    )


DEMO_ASSETS: tuple[DemoAsset, ...] = (
    DemoAsset(_asset("platform-overview-2026", "Northwind Platform Overview 2026",
                     "product_sheet", f"{_CDN}/sheets/platform-overview-2026.pdf", _PRODUCT),
              popularity=1.6, trend=1.2),
    DemoAsset(_asset("pricing-sheet-2026", "Pricing and Packaging 2026", "product_sheet",
                     f"{_CDN}/sheets/pricing-and-packaging-2026.pdf", _PRODUCT),
              popularity=0.9, trend=2.6, campaigns=(12, 47)),
    DemoAsset(_asset("security-compliance-brief",
                     "Security and Compliance Brief: SOC 2, ISO 27001, GDPR", "product_sheet",
                     f"{_CDN}/sheets/security-compliance-brief.pdf", _PRODUCT),
              popularity=0.7, trend=1.0),
    DemoAsset(_asset("contoso-logistics-case-study",
                     "How Contoso Logistics Cut Reporting Time by 60%", "case_study",
                     f"{_SITE}/customers/contoso-logistics", _CUSTOMERS),
              popularity=0.6, trend=3.0, launched_days_ago=70),
    DemoAsset(_asset("tailspin-retail-case-study",
                     "Tailspin Retail: One Dashboard for 400 Stores", "case_study",
                     f"{_SITE}/customers/tailspin-retail", _CUSTOMERS),
              popularity=1.1, trend=0.35),
    DemoAsset(_asset("fabrikam-finance-case-study",
                     "Fabrikam Closes the Books in Three Days", "case_study",
                     f"{_SITE}/customers/fabrikam-finance", _CUSTOMERS),
              popularity=0.6, trend=0.6, quiet_since_days=41),
    DemoAsset(_asset("blog-zero-etl-explained", "Zero-ETL, Explained for Revenue Teams",
                     "blog_post", f"{_SITE}/blog/zero-etl-explained", _CONTENT),
              popularity=0.9, trend=2.2, launched_days_ago=95),
    DemoAsset(_asset("blog-2025-data-team-benchmark", "2025 Data Team Benchmark: 10 Findings",
                     "blog_post", f"{_SITE}/blog/2025-data-team-benchmark", _CONTENT),
              popularity=1.1, trend=0.5, quiet_since_days=34),
    DemoAsset(_asset("video-five-minute-tour", "Five-Minute Product Tour", "video",
                     f"{_SITE}/videos/five-minute-tour", _DEMAND),
              popularity=1.2, trend=1.1),
    DemoAsset(_asset("webinar-live-forecasting-replay",
                     "Webinar Replay: Forecasting on Live Data", "video",
                     f"{_SITE}/webinars/live-forecasting", _DEMAND),
              popularity=0.8, trend=0.3, campaigns=(88,)),
    DemoAsset(_asset("enterprise-pitch-deck", "Enterprise Pitch Deck", "deck",
                     f"{_CDN}/decks/enterprise-pitch-deck.pdf", _PRODUCT),
              popularity=0.9, trend=1.3, pages=18),
    DemoAsset(_asset("partner-program-deck", "Partner Program Overview", "deck",
                     f"{_CDN}/decks/partner-program-overview.pdf", _DEMAND),
              popularity=0.6, trend=0.3, pages=12),
    DemoAsset(_asset("roi-calculator", "ROI Calculator (spreadsheet)", "other",
                     f"{_CDN}/tools/northwind-roi-calculator.xlsx", _DEMAND),
              popularity=0.6, trend=1.8),
)

STALE_ASSET_IDS: frozenset[str] = frozenset(a.id for a in DEMO_ASSETS if a.quiet_since_days > 30)


def assets_csv(assets: Iterable[AssetIn]) -> str:
    """The catalog as ``glassboard assets import`` reads it (docs/demo-assets.csv)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "title", "type", "url", "owner_email"])
    for a in assets:
        writer.writerow([a.id, a.title, a.type, str(a.url), a.owner_email])
    return out.getvalue()


# --- who views -------------------------------------------------------------------------

_DESKTOPS = (("Windows", "Chrome", 45), ("Windows", "Microsoft Edge", 20), ("Mac", "Chrome", 15),
             ("Mac", "Safari", 15), ("Windows", "Firefox", 5))
_PHONES = (("iOS", "Mobile Safari", 55), ("Android", "Chrome Mobile", 35),
           ("Android", "Samsung Browser", 10))
_TABLETS = (("iPadOS", "Mobile Safari", 70), ("Android", "Chrome", 30))

_REPS = (("ana.lopez", -5), ("ben.carter", -5), ("chloe.martin", 0), ("david.kim", -8),
         ("emma.novak", 1), ("farid.haddad", 1))
_COMPANIES = (("acme", -5), ("globex", -6), ("initech", -6), ("umbrella", 0), ("hooli", -8),
              ("stark", -5), ("wayne", -5), ("wonka", 0), ("soylent", -8), ("tyrell", -8),
              ("cyberdyne", -8), ("vandelay", -5), ("piedpiper", -8), ("dunder", -5),
              ("monarch", 1), ("oscorp", -5), ("aperture", -7), ("massive", -5),
              ("bluth", -8), ("gringotts", 0), ("nakatomi", 9), ("weyland", 1))


@dataclass(frozen=True)
class _Viewer:
    viewer_id: str | None
    kind: Kind
    utc_offset: int
    devices: dict[DeviceClass, Device] = field(hash=False)


def _pick(rng: random.Random, options: Sequence[tuple[str, str, int]], cls: DeviceClass) -> Device:
    os_name, browser, _ = rng.choices(options, weights=[o[2] for o in options])[0]
    return Device(device_class=cls, os=os_name, browser=browser)


def _devices(rng: random.Random) -> dict[DeviceClass, Device]:
    """One desktop, one phone and one tablet per person: people keep their devices."""
    return {
        DeviceClass.DESKTOP: _pick(rng, _DESKTOPS, DeviceClass.DESKTOP),
        DeviceClass.PHONE: _pick(rng, _PHONES, DeviceClass.PHONE),
        DeviceClass.TABLET: _pick(rng, _TABLETS, DeviceClass.TABLET),
    }


@dataclass(frozen=True)
class _Population:
    reps: list[_Viewer]
    prospects: list[_Viewer]
    #: Zipf-like: a few prospects are hot deals that open everything.
    prospect_weights: list[float]

    def draw(self, rng: random.Random, kind: Kind) -> _Viewer:
        if kind == "rep":
            return rng.choice(self.reps)
        if kind == "prospect":
            return rng.choices(self.prospects, weights=self.prospect_weights)[0]
        offset = rng.choice(_COMPANIES)[1]
        # Anonymous ids are daily-salted hashes in production: a new one per visit here.
        viewer_id = f"anon:{rng.getrandbits(96):024x}" if kind == "anon" else None
        return _Viewer(viewer_id, kind, offset, _devices(rng))


def _population(rng: random.Random) -> _Population:
    reps = [_Viewer(f"rep:{name}", "rep", offset, _devices(rng)) for name, offset in _REPS]
    prospects = [
        _Viewer(f"prospect:{company}-{number}", "prospect", offset, _devices(rng))
        for company, offset in _COMPANIES
        for number in sorted(rng.sample(range(1, 100), rng.randint(5, 18)))
    ]
    ranks = list(range(1, len(prospects) + 1))
    rng.shuffle(ranks)
    return _Population(reps, prospects, [1 / r**0.8 for r in ranks])


# --- when, where from, on what ---------------------------------------------------------

_WEEKDAY_FACTOR = (1.0, 1.1, 1.05, 1.0, 0.8, 0.22, 0.18)  # Monday first
_WORK_HOURS = (range(8, 18), (2, 5, 7, 6, 3, 4, 6, 6, 4, 2))
_OFF_HOURS = ((6, 7, 18, 19, 20, 21, 22), (1, 3, 3, 3, 4, 3, 2))

#: Audience mix per asset type: rep, prospect, anonymous, do-not-track.
_AUDIENCE: dict[str, tuple[float, float, float, float]] = {
    "product_sheet": (0.15, 0.60, 0.22, 0.03),
    "case_study": (0.12, 0.58, 0.27, 0.03),
    "blog_post": (0.05, 0.25, 0.66, 0.04),
    "video": (0.08, 0.50, 0.39, 0.03),
    "deck": (0.35, 0.60, 0.03, 0.02),
    "other": (0.15, 0.60, 0.22, 0.03),
}
_KINDS: tuple[Kind, ...] = ("rep", "prospect", "anon", "dnt")
_DOWNLOADABLE = frozenset({"product_sheet", "case_study", "deck", "other"})
#: Median seconds of engaged time per visit (per slide for decks).
_ENGAGED_MEDIAN_S = {"product_sheet": 70, "case_study": 110, "blog_post": 95, "video": 240,
                     "deck": 40, "other": 80}


def _weighted(rng: random.Random, table: Sequence[tuple[T, float]]) -> T:
    return rng.choices([t[0] for t in table], weights=[t[1] for t in table])[0]


def _local_moment(rng: random.Random, day: date) -> tuple[datetime, bool]:
    """A local wall-clock time on ``day`` (as naive-in-UTC) and whether it is working hours."""
    working = day.weekday() < 5 and rng.random() < 0.78
    hours, weights = _WORK_HOURS if working else _OFF_HOURS
    hour = rng.choices(list(hours), weights=weights)[0]
    start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    return start + timedelta(hours=hour, seconds=rng.randrange(3600),
                             milliseconds=rng.randrange(1000)), working


#: How each kind of viewer reaches an asset: an email open (pixel), the website (script
#: beacon) or a download link.
_CHANNELS: dict[Kind, tuple[tuple[Channel, float], ...]] = {
    "rep": (("web", 0.7), ("email", 0.1), ("link", 0.2)),
    "prospect": (("email", 0.45), ("web", 0.45), ("link", 0.10)),
    "anon": (("web", 0.9), ("link", 0.1)),
    "dnt": (("web", 0.7), ("email", 0.3)),
}


def _channel(rng: random.Random, kind: Kind, asset_type: str) -> Channel:
    channel = _weighted(rng, _CHANNELS[kind])
    return "web" if channel == "link" and asset_type not in _DOWNLOADABLE else channel


def _device(rng: random.Random, viewer: _Viewer, channel: Channel, working: bool) -> Device:
    if viewer.kind == "rep":
        mix = (0.82, 0.12, 0.06) if working else (0.10, 0.70, 0.20)
    elif channel == "email":
        mix = (0.30, 0.62, 0.08)  # email opens happen on phones
    else:
        mix = (0.60, 0.30, 0.10) if working else (0.22, 0.58, 0.20)
    cls = rng.choices((DeviceClass.DESKTOP, DeviceClass.PHONE, DeviceClass.TABLET), weights=mix)[0]
    return viewer.devices[cls]


def _referrer(rng: random.Random, viewer: _Viewer, channel: Channel, asset_type: str) -> str | None:
    table: Sequence[tuple[str | None, float]]
    if channel in ("email", "link"):
        table = (("outlook.office.com", 0.6), ("mail.google.com", 0.3), (None, 0.1)) \
            if viewer.kind == "rep" else \
            (("mail.google.com", 0.45), ("outlook.office.com", 0.35), (None, 0.2))
    elif viewer.kind == "rep":
        table = ((SITE_HOST, 0.6), (None, 0.4))
    else:
        search = 0.35 if asset_type == "blog_post" else 0.1
        table = (("linkedin.com", 0.25), ("www.google.com", search), (SITE_HOST, 0.35),
                 ("mail.google.com", 0.1), ("outlook.office.com", 0.08), (None, 0.05))
    return _weighted(rng, table)


# --- one session ------------------------------------------------------------------------


@dataclass
class _Session:
    """Events of one visit, built in time order."""

    rng: random.Random
    asset: DemoAsset
    viewer: _Viewer
    device: Device
    referrer: str | None
    events: list[EventEnvelope] = field(default_factory=list)

    def add(self, type_: EventType, at: datetime, source: Source, **extra: object) -> EventEnvelope:
        event = EventEnvelope(
            event_id=uuid.UUID(int=self.rng.getrandbits(128), version=4),
            type=type_.value,
            asset_id=self.asset.id,
            viewer_id=self.viewer.viewer_id,
            occurred_at=at,
            received_at=at + timedelta(milliseconds=self.rng.randint(40, 900)),
            device=self.device,
            referrer_host=self.referrer,
            source=source,
            **extra,
        )
        self.events.append(event)
        return event

    def engaged_ms(self) -> int:
        median = _ENGAGED_MEDIAN_S[self.asset.asset.type] * 1000.0
        if self.device.device_class is DeviceClass.PHONE:
            median *= 0.7
        return int(min(max(median * math.exp(0.8 * self.rng.gauss(0, 1)), 3_000), 1_500_000))

    def beacon_view(self, at: datetime, *, page: int | None, slices: int,
                    min_wall: timedelta = timedelta(0)) -> datetime:
        """A script-tracked view and its dwell slices; returns when the last slice came."""
        view = self.add(EventType.VIEW, at, Source.BEACON, page=page)
        parts = _split(self.rng, self.engaged_ms(), slices)
        walls = [e + int(e * self.rng.uniform(0.02, 0.6)) + self.rng.randint(0, 4_000)
                 for e in parts]
        # The page stayed open until the next one: the last slice's wall time covers it.
        short = int(min_wall.total_seconds() * 1000) - sum(walls)
        if short > 0:
            walls[-1] += short
        for engaged, wall in zip(parts, walls, strict=True):
            at += timedelta(milliseconds=wall)
            self.add(EventType.DWELL, at, Source.BEACON, page=page, view_id=view.event_id,
                     engaged_ms=engaged, wall_ms=min(wall, 3_600_000))
        return at


def _split(rng: random.Random, total: int, parts: int) -> list[int]:
    cuts = sorted(rng.random() for _ in range(parts - 1))
    shares = [b - a for a, b in zip([0.0, *cuts], [*cuts, 1.0], strict=True)]
    return [max(500, int(total * s)) for s in shares]


def _session(
    rng: random.Random, asset: DemoAsset, viewer: _Viewer, day: date, until: datetime
) -> list[EventEnvelope]:
    """One visit starting on ``day`` in the viewer's time zone; none if it would start at or
    after ``until`` (late on the last day, west of UTC: past ``now``, where an envelope's
    time may not be)."""
    local, working = _local_moment(rng, day)
    start = local - timedelta(hours=viewer.utc_offset)
    if start >= until:
        return []
    asset_type = asset.asset.type
    channel = _channel(rng, viewer.kind, asset_type)
    session = _Session(rng, asset, viewer, _device(rng, viewer, channel, working),
                       _referrer(rng, viewer, channel, asset_type))
    if channel == "email":
        session.add(EventType.VIEW, start, Source.PIXEL)
        return session.events
    if channel == "link":
        session.add(EventType.DOWNLOAD, start, Source.LINK)
        return session.events
    if asset.pages:
        end = _read_deck(rng, session, start, asset.pages)
    else:
        slices = rng.choices((1, 2, 3, 4), weights=(4, 3, 2, 1))[0]
        end = session.beacon_view(start, page=None, slices=slices)
    download_odds = {"rep": 0.3, "prospect": 0.18, "anon": 0.08, "dnt": 0.08}[viewer.kind]
    if asset.pages and viewer.kind == "rep":
        download_odds = 0.5
    if asset_type in _DOWNLOADABLE and rng.random() < download_odds:
        session.referrer = SITE_HOST
        session.add(EventType.DOWNLOAD, end + timedelta(seconds=rng.uniform(3, 25)), Source.LINK)
    return session.events


def _read_deck(rng: random.Random, session: _Session, start: datetime, pages: int) -> datetime:
    """Slide views at least 31 s apart (so none is a double-click), each with its dwell."""
    mean_slides = 5.0 if session.viewer.kind == "rep" else 3.5
    to_read = 1 + int(rng.expovariate(1 / mean_slides))
    page, at = 1, start
    while True:
        end = session.beacon_view(at, page=page, slices=rng.choices((1, 2), (3, 1))[0],
                                  min_wall=_SESSION_SPACING)
        to_read -= 1
        page += 1 if rng.random() < 0.8 else rng.randint(2, 4)
        if to_read <= 0 or page > pages:
            return end
        at = end + timedelta(milliseconds=rng.randint(300, 2_500))


# --- the whole history ------------------------------------------------------------------


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _expected_sessions(asset: DemoAsset, day: date, age: int) -> float:
    if age < asset.quiet_since_days:
        return 0.0
    if asset.launched_days_ago is not None and age > asset.launched_days_ago:
        return 0.0
    progress = 1 - age / HISTORY_DAYS
    rate = _BASE_SESSIONS * asset.popularity * math.pow(asset.trend, progress)
    rate *= _WEEKDAY_FACTOR[day.weekday()]
    if age in asset.campaigns:
        rate *= 3.0
    elif age + 1 in asset.campaigns:
        rate *= 1.6  # the campaign's tail the day after
    return rate


def _overlaps(busy: list[tuple[datetime, datetime]], start: datetime, end: datetime) -> bool:
    return any(start <= e + _SESSION_SPACING and end >= s - _SESSION_SPACING for s, e in busy)


def generate_history(
    now: datetime, *, seed: int = DEMO_SEED, days: int = HISTORY_DAYS
) -> list[EventEnvelope]:
    """``days`` of believable traffic ending ``HISTORY_GAP`` before ``now``, in time order.

    Deterministic for (now, seed, days). Guarantees the tests rely on: every dwell follows
    its view; no viewer has two views (or two downloads) of one asset within 30 s; stale
    assets have nothing in their quiet period.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    rng = random.Random(seed)
    people = _population(rng)
    first, last = now - timedelta(days=days), now - HISTORY_GAP
    busy: dict[tuple[str, str], list[tuple[datetime, datetime]]] = {}
    events: list[EventEnvelope] = []
    for age in range(days, -1, -1):
        day = last.date() - timedelta(days=age)
        for asset in DEMO_ASSETS:
            audience = _AUDIENCE[asset.asset.type]
            for _ in range(_poisson(rng, _expected_sessions(asset, day, age))):
                viewer = people.draw(rng, rng.choices(_KINDS, weights=audience)[0])
                session = _session(rng, asset, viewer, day, last)
                if not session:
                    continue
                start, end = session[0].occurred_at, session[-1].occurred_at
                if start < first or end >= last:
                    continue  # whole sessions only: no dwell without its view
                if viewer.viewer_id is not None:
                    spans = busy.setdefault((asset.id, viewer.viewer_id), [])
                    if _overlaps(spans, start, end):
                        continue
                    spans.append((start, end))
                events.extend(session)
    events.sort(key=lambda e: (e.occurred_at, str(e.event_id)))
    return events
