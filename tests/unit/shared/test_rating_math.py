"""shared/rating_math.py, pure: histograms, the prior and the Bayesian average."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.rating_math import (
    SCALE_MIDPOINT,
    Histogram,
    Prior,
    bayesian_average,
    prior_from,
    score,
)

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
