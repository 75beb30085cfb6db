"""The pure video fold: one PlayFold per play a batch names (per play and asset, when a
slice names another asset), whatever the order of its events, with watched time summed and
coverage bits OR-ed. No IO."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from uuid import UUID, uuid4

from hypothesis import given
from hypothesis import strategies as st

from services.aggregator.usage import summarize
from services.aggregator.video import BUCKETS, bits_of, fold_plays, hex_of, play_key
from shared.events import Device, DeviceClass, EventEnvelope, Source

T0 = datetime(2026, 3, 2, 23, 59, 50, tzinfo=timezone.utc)
VIEW = uuid4()


def covering(first: int, last: int) -> str:
    """The ``watched`` field of a slice that covered buckets first..last (inclusive)."""
    bits = sum(1 << (BUCKETS - 1 - i) for i in range(first, last + 1))
    return hex_of(bits)


def play(asset: str = "demo", at: datetime = T0, duration_ms: int | None = 60_000,
         device: DeviceClass = DeviceClass.DESKTOP) -> EventEnvelope:
    return EventEnvelope(type="play", asset_id=asset, occurred_at=at, view_id=VIEW,
                         duration_ms=duration_ms, device=Device(device_class=device),
                         source=Source.BEACON)


def watch(play_id: UUID, media_ms: int, watched: str, *, asset: str = "demo",
          at: datetime = T0 + timedelta(seconds=20), duration_ms: int = 60_000,
          device: DeviceClass = DeviceClass.DESKTOP, view_id: UUID | None = VIEW,
          ) -> EventEnvelope:
    return EventEnvelope(type="watch", asset_id=asset, occurred_at=at, view_id=view_id,
                         play_id=play_id, media_ms=media_ms, duration_ms=duration_ms,
                         watched=watched, device=Device(device_class=device),
                         source=Source.BEACON)


def test_bucket_zero_is_the_highest_bit_of_the_first_digit() -> None:
    assert covering(0, 0) == "8" + "0" * 24
    assert covering(99, 99) == "0" * 24 + "1"
    assert covering(0, 99) == "f" * 25
    assert bits_of(covering(0, 24)) >> (BUCKETS - 1) & 1 == 1
    assert bits_of(None) == 0 and hex_of(0) == "0" * 25


def test_a_play_and_its_slices_fold_into_one_row() -> None:
    started = play()
    slices = [watch(started.event_id, 15_000, covering(0, 24)),
              watch(started.event_id, 16_000, covering(0, 49), duration_ms=61_000,
                    at=T0 + timedelta(seconds=40))]
    [[fold]] = fold_plays([started, *slices])
    assert fold.play_id == started.event_id and fold.asset_id == "demo"
    assert fold.view_id == VIEW and fold.device_class == "desktop"
    assert fold.started_at == T0 and fold.day == date(2026, 3, 2)
    assert fold.watched_ms == 31_000 and fold.duration_ms == 61_000
    assert fold.watched == bits_of(covering(0, 49))
    assert bin(fold.watched).count("1") == 50


def test_a_play_alone_has_no_time_and_no_coverage_and_an_unknown_length_is_zero() -> None:
    started = play(duration_ms=None)
    [[fold]] = fold_plays([started])
    assert (fold.watched_ms, fold.watched, fold.duration_ms) == (0, 0, 0)


def test_slices_without_their_play_still_make_the_row_from_the_earliest() -> None:
    play_id = uuid4()
    later = watch(play_id, 5_000, covering(10, 19), at=T0 + timedelta(seconds=30),
                  device=DeviceClass.PHONE)
    earlier = watch(play_id, 4_000, covering(0, 9), at=T0, view_id=None)
    [[fold]] = fold_plays([later, earlier])
    assert fold.started_at == T0 and fold.day == date(2026, 3, 2)
    assert fold.view_id == VIEW  # the first slice had none: the next one's
    assert fold.watched_ms == 9_000 and fold.watched == bits_of(covering(0, 19))


def test_a_slice_naming_another_asset_comes_in_a_later_round_after_the_play() -> None:
    started = play()
    mine = watch(started.event_id, 1_000, covering(0, 4))
    forged = watch(started.event_id, 9_999, covering(0, 99), asset="other",
                   at=T0 - timedelta(minutes=5), duration_ms=86_400_000)
    [[fold], [other]] = fold_plays([forged, mine, started])
    # The play's own fold goes first and makes the row; the guard refuses the other.
    assert fold.asset_id == "demo" and fold.started_at == T0
    assert fold.watched_ms == 1_000 and fold.duration_ms == 60_000
    assert fold.watched == bits_of(covering(0, 4))
    assert other.asset_id == "other" and other.watched_ms == 9_999


def test_without_its_play_the_earliest_slices_asset_goes_first() -> None:
    play_id = uuid4()
    forged = watch(play_id, 9_999, covering(0, 99), asset="other", at=T0)
    mine = watch(play_id, 1_000, covering(0, 4), at=T0 + timedelta(seconds=1))
    others = [play() for _ in range(3)]
    first, second = fold_plays([mine, *others, forged])
    assert [f.play_id for f in first] == sorted([play_id, *(p.event_id for p in others)],
                                                key=str)
    assert next(f for f in first if f.play_id == play_id).asset_id == "other"
    assert [(f.play_id, f.asset_id, f.watched_ms) for f in second] == [(play_id, "demo", 1_000)]


def test_the_day_is_the_utc_day_of_the_earliest_event() -> None:
    started = play(at=datetime(2026, 3, 3, 1, 0, tzinfo=timezone(timedelta(hours=5))))
    [[fold]] = fold_plays([started])
    assert fold.day == date(2026, 3, 2) and fold.started_at.tzinfo == timezone.utc


def test_other_events_belong_to_no_play_and_plays_come_in_one_round_sorted_by_id() -> None:
    view = EventEnvelope(type="view", asset_id="demo", occurred_at=T0, source=Source.BEACON)
    dwell = EventEnvelope(type="dwell", asset_id="demo", occurred_at=T0, view_id=view.event_id,
                          engaged_ms=5, source=Source.BEACON)
    plays = [play() for _ in range(20)]
    assert play_key(view) is None and play_key(dwell) is None
    [folds] = fold_plays([view, dwell, *plays])
    assert [f.play_id for f in folds] == sorted((p.event_id for p in plays), key=str)


def test_play_and_watch_move_no_usage_counter() -> None:
    started = play()
    usage = summarize([started, watch(started.event_id, 5_000, covering(0, 9))], frozenset())
    assert not usage.daily and not usage.totals and not usage.dwell_by_view


@given(st.lists(st.tuples(st.integers(0, 99), st.integers(0, 99), st.integers(0, 60_000)),
                min_size=1, max_size=12), st.randoms())
def test_any_order_of_the_same_slices_folds_to_the_same_row(
    spans: list[tuple[int, int, int]], rng: object,
) -> None:
    started = play()
    slices = [watch(started.event_id, ms, covering(min(a, b), max(a, b)),
                    at=T0 + timedelta(seconds=i)) for i, (a, b, ms) in enumerate(spans)]
    events = [started, *slices]
    shuffled = list(events)
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    assert fold_plays(shuffled) == fold_plays(events)
    [[fold]] = fold_plays(events)
    assert fold.watched_ms == sum(ms for _, _, ms in spans)
    expected = set().union(*(range(min(a, b), max(a, b) + 1) for a, b, _ in spans))
    assert {i for i in range(BUCKETS) if fold.watched >> (BUCKETS - 1 - i) & 1} == expected
