"""Per-window scores as the aggregator computes them (pure): windows, periods, trend and
the catalog-wide prior."""

from __future__ import annotations

from datetime import date, timedelta

from services.aggregator.content import (
    CURRENT,
    PREVIOUS,
    PeriodUsage,
    window_bounds,
    window_scores,
)

TODAY = date(2026, 11, 22)


def test_windows_end_today_and_the_previous_period_is_as_long_just_before() -> None:
    bounds = window_bounds(TODAY)
    assert bounds["7d"].current_from == date(2026, 11, 16)
    assert bounds["7d"].previous_from == date(2026, 11, 9)
    assert bounds["90d"].current_from == TODAY - timedelta(days=89)
    assert set(bounds) == {"7d", "30d", "90d", "120d"}


def test_hand_computed_window_scores_trend_and_prior() -> None:
    """Two decks and a video over 30 days.

    Ratings in the window: deck-a 5,5,4 (3 votes), video-v 2 (1 vote). The catalog mean
    is (5+5+4+2)/4 = 4.0; with weight 2 deck-a's Bayesian = (2x4 + 14) / 5 = 4.4 → rating
    part 0.85. deck-a beats deck-b on viewer-days (10 vs 4) and time per view (30 s vs
    10 s); it has no downloads (a zero scores 0): engagement (1 + 1 + 0)/3 = 0.6667.
    Score = 100 x (0.6 x 0.85 + 0.4 x 0.6667) = 77.67 → 78.
    Previous period: deck-a had 2 views, no ratings, no time; its previous score with the
    previous prior (no ratings anywhere → 3.0) is 100 x (0.6 x 0.5 + 0.4 x (1+0+0)/3)
    = 43.33 → 43. 78 vs 43: "up".
    """
    types = {"deck-a": "deck", "deck-b": "deck", "video-v": "video"}
    usage = {
        ("deck-a", "30d", CURRENT): PeriodUsage(views=12, viewer_days=10, engaged_ms=360_000),
        ("deck-b", "30d", CURRENT): PeriodUsage(views=5, viewer_days=4, engaged_ms=50_000),
        ("deck-a", "30d", PREVIOUS): PeriodUsage(views=2, viewer_days=2),
    }
    ratings = {("deck-a", "30d", CURRENT): {5: 2, 4: 1}, ("video-v", "30d", CURRENT): {2: 1}}
    bounds = {"30d": window_bounds(TODAY)["30d"]}
    scored = window_scores(types, usage, ratings, bounds, prior_weight=2)
    scores = {a: {w: s.model() for w, s in windows.items()} for a, windows in scored.items()}

    a = scores["deck-a"]["30d"]
    assert a.bayesian_average == 4.4 and a.rating_part == 0.85
    assert (a.viewers_percentile, a.engagement_percentile, a.downloads_percentile) == (1, 1, 0)
    assert a.score == 78 and a.previous_score == 43 and a.trend == "up"
    assert (a.rating_count, a.positive_ratings, a.previous_rating_count) == (3, 3, 0)
    assert (a.views, a.previous_views, a.engaged_ms_per_view) == (12, 2, 30_000.0)
    assert a.peers == 1 and a.since == "2026-10-24"
    # deck-b: no activity before the window, so no previous score and no trend.
    b = scores["deck-b"]["30d"]
    assert b.previous_score is None and b.trend == "flat"
    # The video is alone in its type and nobody opened it: engagement 0, not a neutral 0.5.
    # Bayesian (2x4 + 2)/3.
    v = scores["video-v"]["30d"]
    assert v.bayesian_average == round(10 / 3, 4) and v.engagement_part == 0 and v.peers == 0


def test_a_negative_bucket_reads_as_zero() -> None:
    """A replacement can overtake the rating it replaces for a moment: never a crash."""
    types = {"a": "deck"}
    scores = window_scores(types, {}, {("a", "7d", CURRENT): {3: -1, 4: 1}},
                           {"7d": window_bounds(TODAY)["7d"]}, prior_weight=5)
    assert scores["a"]["7d"].model().rating_count == 1
