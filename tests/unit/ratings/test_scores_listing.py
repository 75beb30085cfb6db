"""The score listing rules (pure) shared by the list, its CSV and the stream: sorting, the
stale filter, formula-safe CSV cells, and catalog edits over the stored state."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from services.ratings.scores.listing import ScoreFilter, merge_catalog, sort_states, to_csv
from shared.scores import AssetScoreUpdate, UsageTotals


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
