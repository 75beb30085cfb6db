"""The asset page's shaping rules (pure): zero-filled days, pages in order, no names."""

from __future__ import annotations

from datetime import date, datetime, timezone

from services.ratings.analytics.detail import daily_series, page_dwell, recent_ratings


def test_daily_series_fills_quiet_days_with_zeros_oldest_first() -> None:
    rows = [{"day": date(2026, 3, 3), "views": 4, "unique_viewers": 3, "downloads": 1,
             "engaged_ms": 9000}]
    series = daily_series(rows, date(2026, 3, 1), date(2026, 3, 3))
    assert [d["day"] for d in series] == ["2026-03-01", "2026-03-02", "2026-03-03"]
    assert series[0] == {"day": "2026-03-01", "views": 0, "unique_viewers": 0, "downloads": 0,
                         "engaged_ms": 0}
    assert series[2]["views"] == 4 and series[2]["engaged_ms"] == 9000


def test_pages_come_in_order_with_no_page_last_and_no_views_as_no_data() -> None:
    rows = [{"page": None, "views": 1, "engaged_ms": 0},
            {"page": 2, "views": 0, "engaged_ms": 500},
            {"page": 1, "views": 4, "engaged_ms": 10000}]
    assert page_dwell(rows) == [
        {"page": 1, "views": 4, "engaged_ms": 10000, "engaged_ms_per_view": 2500.0},
        {"page": 2, "views": 0, "engaged_ms": 500, "engaged_ms_per_view": None},
        {"page": None, "views": 1, "engaged_ms": 0, "engaged_ms_per_view": 0.0},
    ]


def test_recent_ratings_carry_the_role_and_nothing_that_names_the_rater() -> None:
    at = datetime(2026, 3, 3, 9, 30, tzinfo=timezone.utc)
    rows = [{"stars": 4, "comment": "Useful", "rated_at": at, "role": "sales",
             "email": "rep@example.com", "name": "Riley"}]
    assert recent_ratings(rows) == [{"stars": 4, "comment": "Useful",
                                     "rated_at": "2026-03-03T09:30:00+00:00",
                                     "rater_role": "sales"}]
