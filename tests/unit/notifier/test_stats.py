"""The notifier's intervals (pure): Wilson, Poisson and the mean's upper bound, by hand
and as properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notifier.stats import mean_stars_upper, poisson_interval, wilson_interval


def test_wilson_interval_of_8_positive_out_of_10() -> None:
    # centre = 0.8 + 3.8415/20 = 0.99207; margin = 1.96 * sqrt(0.016 + 0.0096) = 0.31362;
    # scale = 1 + 3.8415/10 = 1.38415 -> [0.4902, 0.9433]
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(0.9433, abs=1e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_poisson_interval_matches_the_exact_one_within_a_percent() -> None:
    # Garwood's exact 95% intervals: 0 -> [0, 3.689], 100 -> [81.37, 121.63]
    assert poisson_interval(0) == pytest.approx((0.0, 3.689), rel=0.01)
    assert poisson_interval(100) == pytest.approx((81.37, 121.63), rel=0.001)
    # 10 -> [4.795, 18.39]
    assert poisson_interval(10) == pytest.approx((4.795, 18.39), rel=0.01)


def test_mean_upper_bound_uses_the_widest_spread_ratings_of_that_mean_can_have() -> None:
    # mean 2.0 on 12 ratings: spread (2-1)(5-2) = 3, 1.96 * sqrt(3/12) = 0.98 -> 2.98
    assert mean_stars_upper(2.0, 12) == pytest.approx(2.98, abs=1e-3)
    assert mean_stars_upper(2.0, 11) == pytest.approx(3.0236, abs=1e-3)
    assert mean_stars_upper(1.0, 3) == 1.0  # all 1-star: no spread at all


@given(st.integers(0, 500), st.integers(0, 500))
def test_wilson_interval_contains_the_share(positive: int, extra: int) -> None:
    total = positive + extra
    low, high = wilson_interval(positive, total)
    assert 0 <= low <= high <= 1
    if total:
        assert low <= positive / total + 1e-12 and positive / total <= high + 1e-12


@given(st.integers(0, 1_000_000))
def test_poisson_interval_contains_the_count(count: int) -> None:
    low, high = poisson_interval(count)
    assert 0 <= low <= count <= high
