"""How a video is watched: plays, watch time, quartiles reached and the retention curve
(GET /v1/assets/{id}/video). Pure: no IO, the plays' totals passed in.

A play is one row of video_plays; its coverage is 100 buckets, bucket i the i-th 1% of the
video. ``covered[i]`` is how many plays covered bucket i, so the retention curve is
covered[i] / plays, quartile q is reached by the plays that covered bucket q - 1, and the
mean share of the video a play covered is sum(covered) / (100 * plays).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["BUCKETS", "QUARTILES", "video_report"]

BUCKETS = 100
QUARTILES = (25, 50, 75, 100)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def video_report(asset_id: str, window: str, since: Any, totals: Mapping[str, Any],
                 covered: Sequence[int], file_duration_ms: int | None) -> dict[str, Any]:
    """``totals``: plays, watch_ms (sum), median_watch_ms and longest_ms (the longest
    play's duration); ``covered``: plays per bucket; ``file_duration_ms``: the latest video
    file's length, if the asset has one."""
    if len(covered) != BUCKETS:
        raise ValueError(f"expected {BUCKETS} buckets, got {len(covered)}")
    plays = int(totals["plays"] or 0)
    median = totals["median_watch_ms"]
    return {
        "asset_id": asset_id, "window": window,
        "since": since.isoformat() if since else None,
        "plays": plays,
        "watch_ms": int(totals["watch_ms"] or 0),
        "median_watch_ms": median if plays else None,
        "avg_watched_share": _share(sum(covered), BUCKETS * plays),
        "duration_ms": file_duration_ms or (int(totals["longest_ms"] or 0) or None),
        "quartiles": [{"quartile": q, "plays": covered[q - 1],
                       "share": _share(covered[q - 1], plays)} for q in QUARTILES],
        "retention": [_share(n, plays) for n in covered],
    }
