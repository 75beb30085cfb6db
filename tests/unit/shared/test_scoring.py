"""The content score's pure math: hand-computed cases and properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.scoring import (
    AssetSignals,
    Weights,
    content_scores,
    percentile_rank,
    trend,
    wilson_lower_bound,
)


def signals(asset_id: str, avg: float, viewers: int, engaged: float, downloads: int,
            kind: str = "case_study") -> AssetSignals:
    return AssetSignals(asset_id, kind, avg, viewers, engaged, downloads)


def test_percentile_rank_counts_ties_as_half_and_is_neutral_alone() -> None:
    assert percentile_rank(10, [5, 10, 20, 1]) == pytest.approx((2 + 0.5) / 4)
    assert percentile_rank(3, []) == 0.5


def test_a_hand_computed_score() -> None:
    # Three case studies. "b": Bayesian 4.2 → rating part (4.2-1)/4 = 0.8.
    # Viewers 50 beats 10 and ties nothing with 90 → 1/2; engaged 60 s beats both → 1;
    # downloads 5 ties one (5) and beats one (0) → 1.5/2 = 0.75.
    # Engagement part = (0.5 + 1 + 0.75) / 3 = 0.75. Score = 100 × (0.6×0.8 + 0.4×0.75) = 78.
    board = content_scores([
        signals("a", 3.0, 10, 20_000, 0),
        signals("b", 4.2, 50, 60_000, 5),
        signals("c", 2.0, 90, 30_000, 5),
        signals("x", 5.0, 1, 1, 0, kind="video"),  # another type: not b's peer
    ])
    b = board["b"]
    assert (b.rating_part, b.viewers_percentile, b.engagement_percentile,
            b.downloads_percentile) == (pytest.approx(0.8), 0.5, 1.0, 0.75)
    assert b.engagement_part == pytest.approx(0.75) and b.score == 78
    # Alone in its type, the video's viewers and time are neutral (0.5), but it has no
    # downloads, and a zero scores 0: 100 × (0.6×1 + 0.4×(0.5+0.5+0)/3) = 73.3 → 73.
    assert board["x"].score == 73
    # "a" has no downloads: 0 there, not half of a tie.
    assert board["a"].downloads_percentile == 0.0


def test_nothing_measured_earns_nothing_even_alone_or_tied() -> None:
    assert percentile_rank(0, []) == 0.0 and percentile_rank(0, [0, 0]) == 0.0
    idle = content_scores([signals("idle", 3.0, 0, 0, 0, kind="other")])["idle"]
    assert idle.engagement_part == 0.0 and idle.score == 30


def test_wilson_lower_bound_keeps_one_lucky_vote_below_a_proven_record() -> None:
    one_five_star = wilson_lower_bound(1, 1)
    forty_of_forty_five = wilson_lower_bound(40, 45)
    assert one_five_star == pytest.approx(0.2065, abs=1e-4)
    assert forty_of_forty_five > one_five_star
    assert wilson_lower_bound(0, 0) == 0.0


def test_trend_ignores_noise_within_the_dead_band() -> None:
    assert trend(70, 69) == "flat" and trend(70, 60) == "up" and trend(60, 70) == "down"
    assert trend(50, None) == "flat"


def test_weights_must_make_sense() -> None:
    with pytest.raises(ValueError):
        Weights(rating=-1)


averages = st.floats(min_value=1.0, max_value=5.0)
counts = st.integers(min_value=0, max_value=10_000)
asset_signals = st.builds(signals, st.uuids().map(str), averages, counts,
                          st.floats(min_value=0, max_value=3_600_000), counts)


@given(st.lists(asset_signals, min_size=1, max_size=12, unique_by=lambda s: s.asset_id))
def test_scores_are_bounded(board: list[AssetSignals]) -> None:
    assert all(0 <= s.score <= 100 for s in content_scores(board).values())


@given(st.lists(asset_signals, min_size=1, max_size=8, unique_by=lambda s: s.asset_id),
       st.floats(min_value=0.0, max_value=4.0))
def test_a_better_rating_never_lowers_the_score(board: list[AssetSignals], lift: float) -> None:
    first = board[0]
    better = AssetSignals(first.asset_id, first.asset_type,
                          min(5.0, first.bayesian_average + lift), first.unique_viewers,
                          first.engaged_ms_per_view, first.downloads)
    before = content_scores(board)[first.asset_id].score
    after = content_scores([better, *board[1:]])[first.asset_id].score
    assert after >= before


@given(st.integers(min_value=0, max_value=200), st.integers(min_value=1, max_value=200))
def test_wilson_bound_lies_below_the_observed_share(positive: int, total: int) -> None:
    positive = min(positive, total)
    assert 0.0 <= wilson_lower_bound(positive, total) <= positive / total + 1e-12


@given(st.lists(asset_signals, min_size=1, max_size=12, unique_by=lambda s: s.asset_id))
def test_the_sorted_ranks_equal_the_definition(board: list[AssetSignals]) -> None:
    """content_scores ranks with bisect; it must agree with percentile_rank among peers."""
    scores = content_scores(board)
    for s in board:
        peers = [p for p in board if p.asset_id != s.asset_id and p.asset_type == s.asset_type]
        assert scores[s.asset_id].viewers_percentile == pytest.approx(
            percentile_rank(s.unique_viewers, [p.unique_viewers for p in peers]))
        assert scores[s.asset_id].engagement_percentile == pytest.approx(
            percentile_rank(s.engaged_ms_per_view, [p.engaged_ms_per_view for p in peers]))


@given(st.lists(asset_signals, min_size=1, max_size=8, unique_by=lambda s: s.asset_id),
       st.integers(min_value=1, max_value=1000))
def test_more_viewers_never_lower_the_score(board: list[AssetSignals], more: int) -> None:
    first = board[0]
    busier = AssetSignals(first.asset_id, first.asset_type, first.bayesian_average,
                          first.unique_viewers + more, first.engaged_ms_per_view,
                          first.downloads)
    assert (content_scores([busier, *board[1:]])[first.asset_id].score
            >= content_scores(board)[first.asset_id].score)
