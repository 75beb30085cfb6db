"""The /video answer from the plays' totals and plays per 1% bucket, with numbers checked
by hand; buckets decoded from ``watched`` as the wire contract says."""

from __future__ import annotations

from datetime import date

import pytest

from services.ratings.analytics.watching import BUCKETS, video_report


def _bits(first: int, last: int) -> str:
    """``watched`` covering buckets first..last (bucket 0 = the highest bit)."""
    value = sum(1 << (99 - i) for i in range(first, last + 1))
    return f"{value:025x}"


def _covered(*watched: str) -> list[int]:
    """Plays per bucket, by the contract's rule: bucket i set iff (int(w, 16) >> (99 - i)) & 1."""
    return [sum((int(w, 16) >> (99 - i)) & 1 for w in watched) for i in range(BUCKETS)]


TOTALS = {"plays": 3, "watch_ms": 45000, "median_watch_ms": 12000.0, "longest_ms": 60000}


def test_three_plays_give_their_quartiles_retention_and_mean_coverage() -> None:
    # The whole video, the first half, and the first quarter.
    covered = _covered(_bits(0, 99), _bits(0, 49), _bits(0, 24))
    assert covered == [3] * 25 + [2] * 25 + [1] * 50
    report = video_report("demo", "30d", date(2026, 11, 3), TOTALS, covered, 61000)
    assert report["asset_id"] == "demo" and report["since"] == "2026-11-03"
    assert (report["plays"], report["watch_ms"], report["median_watch_ms"]) == (3, 45000, 12000)
    assert report["duration_ms"] == 61000  # the file's, when there is one
    # (100 + 50 + 25) buckets over 3 plays of 100 buckets.
    assert report["avg_watched_share"] == round(175 / 300, 4) == 0.5833
    assert report["quartiles"] == [
        {"quartile": 25, "plays": 3, "share": 1.0},
        {"quartile": 50, "plays": 2, "share": 0.6667},
        {"quartile": 75, "plays": 1, "share": 0.3333},
        {"quartile": 100, "plays": 1, "share": 0.3333},
    ]
    assert report["retention"] == [1.0] * 25 + [0.6667] * 25 + [0.3333] * 50


def test_quartile_q_is_reached_when_bucket_q_minus_1_is_covered() -> None:
    # Watched 24%..74% only: 25 and 50 and 75 reached, 100 not.
    report = video_report("demo", "all", None, {**TOTALS, "plays": 1},
                          _covered(_bits(24, 74)), None)
    assert [q["plays"] for q in report["quartiles"]] == [1, 1, 1, 0]
    assert report["avg_watched_share"] == 0.51
    assert report["duration_ms"] == 60000  # no file: the longest play's


def test_no_plays_gives_null_shares() -> None:
    totals = {"plays": 0, "watch_ms": 0, "median_watch_ms": None, "longest_ms": None}
    report = video_report("demo", "7d", None, totals, [0] * BUCKETS, None)
    assert (report["plays"], report["watch_ms"], report["median_watch_ms"]) == (0, 0, None)
    assert report["avg_watched_share"] is None and report["duration_ms"] is None
    assert report["quartiles"][0] == {"quartile": 25, "plays": 0, "share": None}
    assert report["retention"] == [None] * BUCKETS


def test_the_buckets_must_be_a_hundred() -> None:
    with pytest.raises(ValueError):
        video_report("demo", "7d", None, TOTALS, [0] * 99, None)
