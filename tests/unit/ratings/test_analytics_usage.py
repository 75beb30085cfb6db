"""The usage read API's shaping (pure) and window arithmetic."""

from __future__ import annotations

from datetime import date

from services.ratings.analytics.usage import usage_report, window_start


def test_window_start_counts_today_as_day_one() -> None:
    today = date(2026, 11, 22)
    assert window_start("7d", today) == date(2026, 11, 16)
    assert window_start("30d", today) == date(2026, 10, 24)
    assert window_start("all", today) is None


def test_pixel_only_views_are_reported_as_no_dwell_data_not_zero_seconds() -> None:
    report = usage_report(
        "a1", "7d", date(2026, 11, 16),
        counters=[{"device_class": "all", "views": 4, "downloads": 0, "engaged_ms": 0, "wall_ms": 0},
                  {"device_class": "phone", "views": 4, "downloads": 0, "engaged_ms": 0, "wall_ms": 0}],
        uniques=[{"device_class": "all", "unique_viewers": 3}],
        dwell={"views_with_dwell": 0, "median_engaged_ms": None},
    )
    assert report["dwell"]["median_engaged_ms_per_view"] is None
    assert report["dwell"]["views_without_dwell"] == 4
    assert report["unique_viewers"] == 3
    assert report["devices"][0]["share_of_views"] == 1.0


def test_empty_asset_reports_zeros() -> None:
    report = usage_report("a1", "all", None, [], [], {"views_with_dwell": 0, "median_engaged_ms": None})
    assert report["views"] == 0 and report["devices"] == [] and report["since"] is None
