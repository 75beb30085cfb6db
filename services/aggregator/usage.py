"""Pure usage rules: which events count, and what one batch adds to each bucket.

No IO and no clock here: the repository feeds in what the database knows (the last
counted hit per viewer) and writes back what these functions return.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from uuid import UUID

from shared.events import DeviceClass, EventEnvelope, EventType, RejectReason, Source
from shared.scores import RatingSummary

__all__ = [
    "ALL_DEVICES",
    "DOUBLE_CLICK_WINDOW",
    "BatchUsage",
    "Counters",
    "GuardKey",
    "RatingKey",
    "double_clicks",
    "first_of_each_id",
    "guard_key",
    "held_back",
    "rating_deltas",
    "rating_is_consistent",
    "rating_summary",
    "refusal",
    "split_countable",
    "summarize",
]

#: COUNTER Code of Practice: repeat views/downloads by one viewer this close count once.
DOUBLE_CLICK_WINDOW = timedelta(seconds=30)
#: Pseudo device class whose rows hold the exact cross-device figures.
ALL_DEVICES = "all"
_GUARDED_TYPES = frozenset({EventType.VIEW.value, EventType.DOWNLOAD.value})
#: The event types that move usage counters.
_USAGE_TYPES = frozenset({EventType.VIEW.value, EventType.DOWNLOAD.value, EventType.DWELL.value})

GuardKey = tuple[str, str, str]  # (asset_id, viewer_key, type, with the page if any)
#: (asset_id, UTC day the rating was given, stars): one row of ``rating_daily``.
RatingKey = tuple[str, date, int]


def first_of_each_id(events: Iterable[EventEnvelope]) -> list[EventEnvelope]:
    """Drop repeats of an event_id inside one batch (a producer retry can land both copies
    in the same batch, where the database's ON CONFLICT sees them as one insert)."""
    seen: dict[UUID, EventEnvelope] = {}
    for event in events:
        seen.setdefault(event.event_id, event)
    return list(seen.values())


def split_countable(
    events: Iterable[EventEnvelope], known_assets: set[str]
) -> tuple[list[EventEnvelope], list[tuple[EventEnvelope, RejectReason]]]:
    """Events that may count, and the others with the reason they never will."""
    judged = [(event, refusal(event, known_assets)) for event in events]
    countable = [event for event, reason in judged if reason is None]
    refused = [(event, reason) for event, reason in judged if reason is not None]
    return countable, refused


def refusal(event: EventEnvelope, known_assets: set[str]) -> RejectReason | None:
    """Why ``event`` never counts, or None when it may."""
    if event.asset_id not in known_assets:
        return RejectReason.UNKNOWN_ASSET
    if event.device.device_class is DeviceClass.BOT:
        return RejectReason.BOT
    if not rating_is_consistent(event):
        return RejectReason.INVALID
    return None


def rating_is_consistent(event: EventEnvelope) -> bool:
    """A rating that replaces one must say when that one was given: without the day, its
    -1 would land on the wrong ``rating_daily`` row and the histogram would drift."""
    if event.type != EventType.RATING:
        return True
    return (event.previous_stars is None) == (event.previous_rated_at is None)


def held_back(event: EventEnvelope) -> bool:
    """A tracked-link download waits for the burst rule (shared/scanners.py): a scanner
    follows every link of a message at once. Without a viewer there is no client to group
    by, so it counts at once."""
    return (event.type == EventType.DOWNLOAD and event.source is Source.LINK
            and event.viewer_id is not None)


def guard_key(event: EventEnvelope) -> GuardKey | None:
    if event.type not in _GUARDED_TYPES or event.viewer_id is None:
        return None
    # Pages of one document are distinct items: slide 2 is not a double-click of slide 1.
    kind = event.type if event.page is None else f"{event.type}:p{event.page}"
    return (event.asset_id, event.viewer_id, kind)


def double_clicks(
    events: Sequence[EventEnvelope], last_counted: Mapping[GuardKey, datetime]
) -> tuple[frozenset[UUID], dict[GuardKey, datetime]]:
    """Apply the double-click rule in event-time order.

    A view or download is suppressed when the same viewer's last *counted* hit of the same
    type on the same asset is at most 30 s away. Returns the suppressed event ids and the
    new "last counted" time of every key that counted a hit.
    """
    latest = dict(last_counted)
    suppressed: set[UUID] = set()
    changed: dict[GuardKey, datetime] = {}
    for event in sorted(events, key=lambda e: e.occurred_at):
        key = guard_key(event)
        if key is None:
            continue
        previous = latest.get(key)
        if previous is not None and abs(event.occurred_at - previous) <= DOUBLE_CLICK_WINDOW:
            suppressed.add(event.event_id)
            continue
        if previous is None or event.occurred_at > previous:
            latest[key] = changed[key] = event.occurred_at
    return frozenset(suppressed), changed


@dataclass
class Counters:
    views: int = 0
    downloads: int = 0
    engaged_ms: int = 0
    wall_ms: int = 0

    def add(self, event: EventEnvelope) -> None:
        if event.type == EventType.VIEW:
            self.views += 1
        elif event.type == EventType.DOWNLOAD:
            self.downloads += 1
        elif event.type == EventType.DWELL:
            self.engaged_ms += event.engaged_ms or 0
            self.wall_ms += event.wall_ms or 0


@dataclass
class BatchUsage:
    """Everything one batch adds, pre-aggregated so one upserted row covers many events."""

    daily: dict[tuple[str, date, str], Counters] = field(default_factory=lambda: defaultdict(Counters))
    totals: dict[str, Counters] = field(default_factory=lambda: defaultdict(Counters))
    last_event_at: dict[str, datetime] = field(default_factory=dict)
    #: (asset, day, device class or 'all', viewer) seen viewing in this batch.
    viewer_days: set[tuple[str, date, str, str]] = field(default_factory=set)
    asset_viewers: set[tuple[str, str]] = field(default_factory=set)
    #: view_id -> (asset, day, device class, engaged ms, wall ms)
    dwell_by_view: dict[UUID, tuple[str, date, str, int, int]] = field(default_factory=dict)


def summarize(events: Iterable[EventEnvelope], suppressed: frozenset[UUID]) -> BatchUsage:
    """Fold new (never seen before) events into per-bucket increments."""
    usage = BatchUsage()
    for event in events:
        if event.event_id in suppressed or event.type not in _USAGE_TYPES:
            continue  # ratings are folded by ``rating_deltas``; unknown types count nowhere
        day = event.occurred_at.date()
        device = event.device.device_class.value
        for bucket in (device, ALL_DEVICES):
            usage.daily[(event.asset_id, day, bucket)].add(event)
        usage.totals[event.asset_id].add(event)
        last = usage.last_event_at.get(event.asset_id)
        if last is None or event.occurred_at > last:
            usage.last_event_at[event.asset_id] = event.occurred_at
        if event.type == EventType.VIEW and event.viewer_id is not None:
            for bucket in (device, ALL_DEVICES):
                usage.viewer_days.add((event.asset_id, day, bucket, event.viewer_id))
            usage.asset_viewers.add((event.asset_id, event.viewer_id))
        if event.type == EventType.DWELL and event.view_id is not None:
            asset, first_day, first_device, engaged, wall = usage.dwell_by_view.get(
                event.view_id, (event.asset_id, day, device, 0, 0)
            )
            usage.dwell_by_view[event.view_id] = (
                asset,
                first_day,
                first_device,
                engaged + (event.engaged_ms or 0),
                wall + (event.wall_ms or 0),
            )
    return usage


def _utc_day(at: datetime) -> date:
    return at.astimezone(timezone.utc).date()


def rating_deltas(events: Iterable[EventEnvelope]) -> dict[RatingKey, int]:
    """Fold new rating events into net changes of ``rating_daily``, reading no rating.

    Each event carries what it replaces: the old rating leaves its (day, stars) bucket and
    the new one enters its own, so a re-rating moves one unit and a withdrawal removes
    one. Buckets that net to zero (re-rating the same stars the same day) are dropped.
    """
    deltas: dict[RatingKey, int] = defaultdict(int)
    for event in events:
        if event.type != EventType.RATING:
            continue
        if event.previous_stars is not None and event.previous_rated_at is not None:
            deltas[(event.asset_id, _utc_day(event.previous_rated_at), event.previous_stars)] -= 1
        if event.stars is not None:
            deltas[(event.asset_id, _utc_day(event.occurred_at), event.stars)] += 1
    return {key: n for key, n in deltas.items() if n}


def rating_summary(histogram: Mapping[int, int]) -> RatingSummary:
    """Count, mean and histogram from ratings per stars (1..5).

    A bucket can dip below zero only while a replacement is applied before the rating it
    replaces (outbox relays racing); it is read as zero so the mean stays within 1..5.
    """
    counts = {stars: max(int(histogram.get(stars, 0)), 0) for stars in range(1, 6)}
    count = sum(counts.values())
    mean = sum(stars * n for stars, n in counts.items()) / count if count else None
    return RatingSummary(
        count=count, mean=mean, histogram={str(stars): n for stars, n in counts.items()}
    )
