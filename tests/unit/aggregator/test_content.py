"""Per-window scores as the aggregator computes them (pure): windows, periods, trend,
the catalog-wide prior, and the listing rules shared by the list, CSV and stream."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from services.aggregator.content import (
    CURRENT,
    PREVIOUS,
    PeriodUsage,
    window_bounds,
    window_scores,
)
from services.ratings.scores.listing import ScoreFilter, merge_catalog, sort_states, to_csv
from shared.scores import AssetScoreUpdate, UsageTotals

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


def state(asset_id: str, score: int | None, **fields: object) -> AssetScoreUpdate:
    scores = {} if score is None else {"90d": {
        "since": "2026-08-25", "score": score, "bayesian_average": 3.0, "rating_part": 0.5,
        "engagement_part": 0.5, "viewers_percentile": 0.5, "engagement_percentile": 0.5,
        "downloads_percentile": 0.5, "views": score}}
    return AssetScoreUpdate.model_validate({
        "asset_id": asset_id, "title": asset_id.title(), "asset_type": "deck",
        "owner_email": "olga@example.com", "totals": {}, "updated_at": "2026-11-22T00:00:00Z",
        "scores": scores, **fields})


def test_sorting_puts_unscored_assets_last_and_breaks_ties_by_title() -> None:
    board = [state("b", 40), state("none", None), state("a", 40), state("c", 90)]
    assert [s.asset_id for s in sort_states(board, "-score", "90d")] == ["c", "a", "b", "none"]
    assert [s.asset_id for s in sort_states(board, "score", "90d")] == ["none", "a", "b", "c"]


def test_the_stale_filter_keeps_idle_and_never_used_assets() -> None:
    now = datetime(2026, 11, 22, tzinfo=timezone.utc)
    idle = ScoreFilter(idle_since=now - timedelta(days=30))
    assert idle.matches(state("never", None))
    assert idle.matches(state("old", 1, last_event_at="2026-09-01T00:00:00Z"))
    assert not idle.matches(state("fresh", 1, last_event_at="2026-11-20T00:00:00Z"))
    assert ScoreFilter(owner="OLGA@example.com", text="fre").matches(state("fresh", 1))


def test_csv_quotes_cells_a_spreadsheet_would_run_as_formulas() -> None:
    evil = state("x", 10, title="=HYPERLINK(\"http://evil\")")
    text = to_csv([evil], "90d")
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text


def test_catalog_edits_win_over_the_stored_state() -> None:
    now = datetime(2026, 11, 22, tzinfo=timezone.utc)
    row = {"id": "x", "title": "Renamed", "type": "video", "stage": "decision",
           "owner_email": "new@example.com"}
    merged = merge_catalog(row, state("x", 10).model_dump(mode="json"), now)
    assert (merged.title, merged.asset_type, merged.owner_email) == ("Renamed", "video",
                                                                     "new@example.com")
    assert merged.scores["90d"].score == 10
    fresh = merge_catalog(row, None, now)
    assert fresh.scores == {} and fresh.totals == UsageTotals()
