"""Shape usage rows into the read API's answer. Pure: no IO, ``today`` passed in."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any, Literal

__all__ = ["WINDOWS", "Window", "usage_report", "window_start"]

Window = Literal["7d", "30d", "90d", "all"]
WINDOWS: dict[str, int | None] = {"7d": 7, "30d": 30, "90d": 90, "120d": 120, "all": None}
_ALL = "all"


def window_start(window: str, today: date) -> date | None:
    """First UTC day inside the window; '7d' is today and the six days before it."""
    days = WINDOWS[window]
    return None if days is None else today - timedelta(days=days - 1)


def usage_report(
    asset_id: str,
    window: str,
    since: date | None,
    counters: Iterable[Mapping[str, Any]],
    uniques: Iterable[Mapping[str, Any]],
    dwell: Mapping[str, Any],
) -> dict[str, Any]:
    by_device = {r["device_class"]: dict(r) for r in counters}
    unique_by_device = {r["device_class"]: r["unique_viewers"] for r in uniques}
    overall = by_device.pop(_ALL, {"views": 0, "downloads": 0, "engaged_ms": 0, "wall_ms": 0})
    views = int(overall["views"])
    with_dwell = int(dwell["views_with_dwell"] or 0)
    median = dwell["median_engaged_ms"]
    devices = [
        {
            "device_class": device,
            "views": int(row["views"]),
            "unique_viewers": int(unique_by_device.get(device, 0)),
            "downloads": int(row["downloads"]),
            "engaged_ms": int(row["engaged_ms"]),
            "share_of_views": round(int(row["views"]) / views, 4) if views else 0.0,
        }
        for device, row in sorted(by_device.items(), key=lambda kv: -int(kv[1]["views"]))
    ]
    return {
        "asset_id": asset_id,
        "window": window,
        "since": since.isoformat() if since else None,
        "views": views,
        "unique_viewers": int(unique_by_device.get(_ALL, 0)),
        "downloads": int(overall["downloads"]),
        "dwell": {
            "engaged_ms_total": int(overall["engaged_ms"]),
            "wall_ms_total": int(overall["wall_ms"]),
            "median_engaged_ms_per_view": round(median) if median is not None else None,
            "views_with_dwell": with_dwell,
            # Pixel-only views (an email open, say) have no time on page: "viewed, no
            # dwell data", which is not the same as 0 s.
            "views_without_dwell": max(views - with_dwell, 0),
        },
        "devices": devices,
    }
