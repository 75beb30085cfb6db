"""Rating math and the aggregator's rating deltas, pure: no database, no broker."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.aggregator.usage import (
    double_clicks,
    guard_key,
    rating_deltas,
    rating_summary,
    split_countable,
    summarize,
)
from shared.events import EventEnvelope, RejectReason, Source
from shared.rating_math import (
    SCALE_MIDPOINT,
    Histogram,
    Prior,
    bayesian_average,
    prior_from,
    score,
)

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)
DAY0 = date(2026, 3, 10)


# --- hand-computed cases ---------------------------------------------------------------


def test_count_and_mean_of_a_histogram() -> None:
    h = Histogram.of({5: 2, 4: 1})
    assert h.count == 3 and h.total_stars == 14
    assert h.mean == pytest.approx(14 / 3)
    assert h.as_json() == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 2}


def test_no_ratings_have_no_mean_not_a_zero_mean() -> None:
    assert Histogram().count == 0 and Histogram().mean is None


def test_worked_example_of_the_docs() -> None:
    # Asset: 5, 5, 4 (sum 14, 3 votes). Catalog: 40 ratings, 20 x 2 and 20 x 5 stars,
    # mean 140 / 40 = 3.5. C = 5: (5 x 3.5 + 14) / (5 + 3) = 31.5 / 8 = 3.9375.
    catalog = Histogram.of({2: 20, 5: 20})
    assert catalog.count == 40 and catalog.mean == 3.5
    s = score(Histogram.of({5: 2, 4: 1}), catalog, 5)
    assert s.prior == Prior(3.5, 5) and s.count == 3
    assert s.bayesian_average == 3.9375


def test_one_five_star_vote_is_pulled_towards_the_prior() -> None:
    # (5 x 3 + 5) / (5 + 1) = 20 / 6
    assert bayesian_average(Histogram.of({5: 1}), Prior(3.0, 5)) == pytest.approx(20 / 6)


def test_without_any_ratings_the_prior_is_the_scale_midpoint() -> None:
    s = score(Histogram(), Histogram(), 5)
    assert SCALE_MIDPOINT == 3.0
    assert s.prior == Prior(3.0, 5) and s.mean is None and s.bayesian_average == 3.0
    # The first vote in the whole catalog is also the prior: the average is that vote.
    first = Histogram.of({4: 1})
    assert score(first, first, 5).bayesian_average == 4.0


def test_zero_weight_means_the_plain_mean_and_the_prior_without_votes() -> None:
    assert bayesian_average(Histogram.of({1: 1, 4: 1}), Prior(3.7, 0)) == 2.5
    assert bayesian_average(Histogram(), Prior(3.7, 0)) == 3.7


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError):
        Histogram.of({6: 1})
    with pytest.raises(ValueError):
        Histogram.of({1: -1})
    with pytest.raises(ValueError):
        Prior(0.5, 5)
    with pytest.raises(ValueError):
        Prior(3.0, -1)
    with pytest.raises(ValueError):
        Prior(3.0, float("inf"))


# --- properties ------------------------------------------------------------------------

counts = st.integers(min_value=0, max_value=10_000)
histograms = st.builds(lambda *c: Histogram(tuple(c)), counts, counts, counts, counts, counts)  # type: ignore[arg-type]
priors = st.builds(
    Prior,
    st.floats(min_value=1.0, max_value=5.0),
    st.one_of(st.integers(min_value=0, max_value=50).map(float),
              st.floats(min_value=0.0, max_value=1000.0)),
)


@settings(max_examples=300)
@given(histograms, priors)
def test_the_average_stays_between_one_and_five(h: Histogram, prior: Prior) -> None:
    assert 1.0 <= bayesian_average(h, prior) <= 5.0


@settings(max_examples=300)
@given(histograms, priors)
def test_the_average_lies_between_the_mean_and_the_prior(h: Histogram, prior: Prior) -> None:
    b = bayesian_average(h, prior)
    if h.mean is None:
        assert b == prior.mean
    else:
        assert min(h.mean, prior.mean) <= b <= max(h.mean, prior.mean)


@settings(max_examples=300)
@given(histograms, priors)
def test_a_five_star_vote_never_lowers_the_average(h: Histogram, prior: Prior) -> None:
    assert bayesian_average(h.plus(5), prior) >= bayesian_average(h, prior)


@settings(max_examples=300)
@given(histograms, histograms, st.floats(min_value=0.0, max_value=100.0))
def test_a_five_star_vote_never_lowers_it_even_as_it_moves_the_prior(
    h: Histogram, others: Histogram, weight: float
) -> None:
    catalog = Histogram(tuple(a + b for a, b in zip(h.counts, others.counts)))  # type: ignore[arg-type]
    before = score(h, catalog, weight).bayesian_average
    after = score(h.plus(5), catalog.plus(5), weight).bayesian_average
    assert after >= before


@settings(max_examples=200)
@given(histograms.filter(lambda h: h.count > 0), priors)
def test_the_average_converges_to_the_mean_as_votes_grow(h: Histogram, prior: Prior) -> None:
    assert h.mean is not None
    previous_gap = float("inf")
    for k in (1, 10, 100, 10_000, 1_000_000):
        many = Histogram(tuple(n * k for n in h.counts))  # type: ignore[arg-type]
        gap = abs(bayesian_average(many, prior) - h.mean)
        # |b - mean| = C |prior - mean| / (C + n): shrinks like 1/n.
        bound = prior.weight * abs(prior.mean - h.mean) / (prior.weight + many.count)
        assert gap <= bound + 1e-9
        assert gap <= previous_gap + 1e-12
        previous_gap = gap


@given(histograms)
def test_the_prior_is_the_catalog_mean_or_the_midpoint(catalog: Histogram) -> None:
    prior = prior_from(catalog, 5)
    assert prior.mean == (catalog.mean if catalog.count else SCALE_MIDPOINT)


# --- the aggregator's deltas -----------------------------------------------------------


def rating(stars: int | None, *, at: datetime = T0, previous: int | None = None,
           previous_at: datetime | None = None, asset: str = "a1",
           rater: str = "user:1") -> EventEnvelope:
    return EventEnvelope(type="rating", asset_id=asset, viewer_id=rater, occurred_at=at,
                         source=Source.API, stars=stars, previous_stars=previous,
                         previous_rated_at=previous_at)


def test_a_first_rating_adds_one_on_its_day() -> None:
    assert rating_deltas([rating(4)]) == {("a1", DAY0, 4): 1}


def test_a_re_rating_moves_one_unit_from_the_old_day_and_stars() -> None:
    ten_days_ago = T0 - timedelta(days=10)
    moved = rating(5, previous=3, previous_at=ten_days_ago)
    assert rating_deltas([moved]) == {("a1", DAY0 - timedelta(days=10), 3): -1,
                                      ("a1", DAY0, 5): 1}


def test_a_withdrawal_removes_one_and_adds_nothing() -> None:
    assert rating_deltas([rating(None, previous=2, previous_at=T0)]) == {("a1", DAY0, 2): -1}


def test_deltas_that_cancel_out_leave_no_row() -> None:
    first = rating(4)
    same_again = rating(4, at=T0 + timedelta(hours=1), previous=4, previous_at=T0)
    assert rating_deltas([first, same_again]) == {("a1", DAY0, 4): 1}
    assert rating_deltas([same_again]) == {}


def test_days_are_utc_days_whatever_offset_the_event_carries() -> None:
    paris = timezone(timedelta(hours=2))
    early_in_paris = datetime(2026, 3, 11, 1, 0, tzinfo=paris)  # still the 10th in UTC
    assert rating_deltas([rating(3, at=early_in_paris)]) == {("a1", DAY0, 3): 1}
    assert rating_deltas([rating(None, at=T0, previous=1, previous_at=early_in_paris)]) == {
        ("a1", DAY0, 1): -1
    }


def test_ratings_never_touch_usage_counters_nor_the_double_click_rule() -> None:
    events = [rating(5), rating(4, at=T0 + timedelta(seconds=1), previous=5, previous_at=T0)]
    usage = summarize(events, frozenset())
    assert not usage.daily and not usage.totals and not usage.last_event_at
    assert not usage.viewer_days and not usage.asset_viewers and not usage.dwell_by_view
    assert all(guard_key(e) is None for e in events)
    assert double_clicks(events, {}) == (frozenset(), {})
    assert rating_deltas(events) == {("a1", DAY0, 4): 1}


def test_unknown_assets_and_replacements_without_a_date_are_refused() -> None:
    good = rating(5)
    ghost = rating(5, asset="ghost")
    undated = rating(5, previous=3)
    countable, refused = split_countable([good, ghost, undated], {"a1"})
    assert countable == [good]
    assert refused == [(ghost, RejectReason.UNKNOWN_ASSET), (undated, RejectReason.INVALID)]


def test_rating_summary_for_the_score_stream() -> None:
    s = rating_summary({5: 2, 4: 1})
    assert s.count == 3 and s.mean == pytest.approx(14 / 3)
    assert s.histogram == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 2}
    assert rating_summary({}).mean is None
    # A transiently negative bucket (a replacement overtook its original) reads as zero.
    assert rating_summary({3: -1, 5: 1}).count == 1


actions = st.lists(
    st.tuples(st.integers(min_value=0, max_value=3),                # rater
              st.one_of(st.none(), st.integers(min_value=1, max_value=5)),  # stars or withdraw
              st.integers(min_value=0, max_value=20)),              # day offset
    max_size=40,
)


@settings(max_examples=300)
@given(actions, st.randoms(use_true_random=False))
def test_summed_deltas_in_any_order_equal_the_current_ratings(
    steps: list[tuple[int, int | None, int]], rng: random.Random
) -> None:
    """Replay what the ratings service emits; the deltas, applied in any order, always add
    up to one unit per current rating at its (day, stars)."""
    current: dict[int, tuple[int, datetime]] = {}
    events: list[EventEnvelope] = []
    for rater, stars, offset in steps:
        at = T0 + timedelta(days=offset)
        previous = current.get(rater)
        if stars is None and previous is None:
            continue  # withdrawing nothing emits nothing
        events.append(rating(stars, at=at, rater=f"user:{rater}",
                             previous=previous[0] if previous else None,
                             previous_at=previous[1] if previous else None))
        if stars is None:
            del current[rater]
        else:
            current[rater] = (stars, at)
    rng.shuffle(events)
    totals: Counter[tuple[str, date, int]] = Counter()
    for batch_start in range(0, len(events), 3):  # several batches, like the aggregator
        totals.update(rating_deltas(events[batch_start:batch_start + 3]))
    expected = Counter(("a1", at.date(), stars) for stars, at in current.values())
    assert +totals == expected and not -totals
