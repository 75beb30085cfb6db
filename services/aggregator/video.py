"""Pure video rules: what one batch's new play and watch events add to each play.

A play is one row of ``video_plays``, keyed by the play event's id; its watch slices name it
by ``play_id``. A slice's ``media_ms`` is its own time (summed), its ``watched`` bits are the
play's coverage so far (merged by OR), so the order slices arrive in changes nothing.
No IO here: video_store.py upserts what :func:`fold_plays` returns.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from uuid import UUID

from shared.events import EventEnvelope, EventType

__all__ = ["BUCKETS", "PlayFold", "bits_of", "fold_plays", "hex_of", "play_key"]

#: Coverage buckets of a play: one per 1% of the video.
BUCKETS = 100


@dataclass(frozen=True)
class PlayFold:
    """What a batch adds to one play (one ``video_plays`` row)."""

    play_id: UUID
    asset_id: str
    view_id: UUID | None
    day: date
    device_class: str
    started_at: datetime
    duration_ms: int
    watched_ms: int
    #: Coverage, bucket i = bit 99 - i (the contract's big-endian 25 hex digits).
    watched: int


def bits_of(watched: str | None) -> int:
    """The coverage bits of a ``watched`` field (25 hex digits); none when absent."""
    return int(watched, 16) if watched else 0


def hex_of(bits: int) -> str:
    """The 25 hex digits PostgreSQL reads as ``('x' || w)::bit(100)``."""
    return format(bits, f"0{BUCKETS // 4}x")


def play_key(event: EventEnvelope) -> UUID | None:
    """The play an event belongs to: a play is its own, a watch names it; others none."""
    if event.type == EventType.PLAY:
        return event.event_id
    if event.type == EventType.WATCH:
        return event.play_id
    return None


def _start(event: EventEnvelope, key: UUID) -> PlayFold:
    started_at = event.occurred_at.astimezone(timezone.utc)
    return PlayFold(
        play_id=key, asset_id=event.asset_id, view_id=event.view_id, day=started_at.date(),
        device_class=event.device.device_class.value, started_at=started_at,
        duration_ms=event.duration_ms or 0, watched_ms=0, watched=0,
    )


def _add(fold: PlayFold, event: EventEnvelope) -> PlayFold:
    """``fold`` with one more event of the same play and asset."""
    started_at = event.occurred_at.astimezone(timezone.utc)
    earlier = started_at < fold.started_at
    return replace(
        fold,
        view_id=fold.view_id or event.view_id,
        started_at=started_at if earlier else fold.started_at,
        day=started_at.date() if earlier else fold.day,
        duration_ms=max(fold.duration_ms, event.duration_ms or 0),
        watched_ms=fold.watched_ms + (event.media_ms or 0),
        watched=fold.watched | bits_of(event.watched),
    )


def _order(event: EventEnvelope) -> tuple[int, datetime, str]:
    # The play first: it names the row's asset, view and device; then time order.
    return event.type != EventType.PLAY, event.occurred_at, str(event.event_id)


def fold_plays(events: Iterable[EventEnvelope]) -> list[list[PlayFold]]:
    """What the events add to each play they name, in rounds of at most one fold per play,
    each sorted by play_id (the upsert's lock order). Nearly always one round.

    A slice naming another asset than its play changes nothing: the upsert's guard refuses
    it. So a batch's events are folded per play and asset, and a play named with a second
    asset (a forged or corrupt slice) gets a second round, after the fold that holds the
    play event (else the earliest slice), which makes or matches the row.
    """
    folds: dict[tuple[UUID, str], PlayFold] = {}
    for event in sorted(events, key=_order):
        key = play_key(event)
        if key is None:
            continue
        fold = folds.get((key, event.asset_id))
        folds[(key, event.asset_id)] = _add(fold or _start(event, key), event)
    rounds: list[list[PlayFold]] = []
    seen: dict[UUID, int] = {}
    for (key, _), fold in folds.items():  # in the order of each fold's first event
        index = seen[key] = seen.get(key, -1) + 1
        if index == len(rounds):
            rounds.append([])
        rounds[index].append(fold)
    return [sorted(batch, key=lambda f: str(f.play_id)) for batch in rounds]
