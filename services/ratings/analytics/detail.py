"""Shape the asset page's read APIs: a zero-filled daily series, dwell per page, and recent
ratings without the rater's name. Pure: no IO, the days passed in."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

__all__ = ["daily_series", "page_dwell", "recent_ratings"]

_DAILY_FIELDS = ("views", "unique_viewers", "downloads", "engaged_ms")


def daily_series(
    rows: Iterable[Mapping[str, Any]], first: date, last: date
) -> list[dict[str, Any]]:
    """One entry per UTC day from ``first`` to ``last``, oldest first; a day without a row
    is all zeros, so a chart's x axis never skips a quiet day."""
    by_day = {row["day"]: row for row in rows}
    series = []
    day = first
    while day <= last:
        row = by_day.get(day, {})
        series.append({"day": day.isoformat(), **{k: int(row.get(k) or 0) for k in _DAILY_FIELDS}})
        day += timedelta(days=1)
    return series


def page_dwell(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per page: counted views, engaged time, and engaged time per view (None without a
    view, which is "no data", not 0 s). Numbered pages in order, then "no page given"."""
    pages = []
    for row in sorted(rows, key=lambda r: (r["page"] is None, r["page"] or 0)):
        views, engaged = int(row["views"] or 0), int(row["engaged_ms"] or 0)
        pages.append({
            "page": row["page"],
            "views": views,
            "engaged_ms": engaged,
            "engaged_ms_per_view": round(engaged / views, 1) if views else None,
        })
    return pages


def recent_ratings(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Stars, comment, when and the rater's role: never who, so that people stay candid."""
    return [
        {
            "stars": int(row["stars"]),
            "comment": row["comment"],
            "rated_at": row["rated_at"].isoformat(),
            "rater_role": row["role"],
        }
        for row in rows
    ]
