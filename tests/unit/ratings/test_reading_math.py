"""The /reading answer from per-(reading, page) rows: drop-off, readers and time per page,
re-reads and the split by PDF version, with numbers checked by hand."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

from services.ratings.analytics.reading import reading_report, readings_of, version_of

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc)
T2 = T0 + timedelta(days=10)
V1 = {"version": 1, "pages": 4, "uploaded_at": T0}
V2 = {"version": 2, "pages": 3, "uploaded_at": T2}
VERSIONS = [V2, V1]
A, B, C, D = (uuid.uuid4() for _ in range(4))


def _rows(reading: uuid.UUID, started_at: datetime,
          *pages: tuple[int, int, int]) -> list[dict[str, object]]:
    return [{"view_id": reading, "page": page, "engaged_ms": ms, "runs": runs,
             "started_at": started_at} for page, ms, runs in pages]


# A and B read version 1, C version 2, D before any upload. (page, engaged ms, runs)
ROWS = [
    *_rows(A, T0 + timedelta(hours=1), (1, 3000, 1), (2, 2000, 2), (3, 1000, 1)),
    *_rows(B, T0 + timedelta(hours=2), (1, 5000, 1), (2, 0, 1)),
    *_rows(C, T0 + timedelta(days=11), (1, 1000, 3), (3, 4000, 1)),
    *_rows(D, T0 - timedelta(hours=1), (1, 2000, 1)),
]


def _page(page: int, reached: int, share: float | None, readers: int, median: float | None,
          total: int, rereaders: int, rereads: int) -> dict[str, object]:
    return {"page": page, "reached": reached, "reached_share": share, "readers": readers,
            "median_ms": median, "total_ms": total, "rereaders": rereaders,
            "rereads": rereads}


def test_every_version_counts_every_reading_over_the_latest_versions_pages() -> None:
    report = reading_report("deck", "90d", date(2026, 9, 1), ROWS, VERSIONS)
    assert report["asset_id"] == "deck" and report["window"] == "90d"
    assert report["since"] == "2026-09-01" and report["version"] is None
    assert report["versions"] == [
        {"version": 2, "pages": 3, "uploaded_at": T2.isoformat(), "readers": 1},
        {"version": 1, "pages": 4, "uploaded_at": T0.isoformat(), "readers": 2},
    ]
    assert report["pages"] == 3 and report["readers"] == 4
    assert report["per_page"] == [
        # Everyone reached page 1; median of 1000, 2000, 3000, 5000; C came back twice.
        _page(1, 4, 1.0, 4, 2500, 11000, 1, 2),
        # A, B and C got to page 2 or beyond (C skipped it); B's 0 ms is no reader.
        _page(2, 3, 0.75, 1, 2000, 2000, 1, 1),
        _page(3, 2, 0.5, 2, 2500, 5000, 0, 0),
    ]
    assert report["most_reread"] == [{"page": 1, "rereaders": 1, "rereads": 2},
                                     {"page": 2, "rereaders": 1, "rereads": 1}]


def test_one_version_counts_its_readings_over_its_own_pages() -> None:
    report = reading_report("deck", "all", None, ROWS, VERSIONS, version=1)
    assert report["since"] is None and report["version"] == 1
    assert [v["readers"] for v in report["versions"]] == [1, 2]  # always every version's
    assert report["pages"] == 4 and report["readers"] == 2
    assert report["per_page"] == [
        _page(1, 2, 1.0, 2, 4000, 8000, 0, 0),
        _page(2, 2, 1.0, 1, 2000, 2000, 1, 1),
        _page(3, 1, 0.5, 1, 1000, 1000, 0, 0),
        _page(4, 0, 0.0, 0, None, 0, 0, 0),
    ]
    assert report["most_reread"] == [{"page": 2, "rereaders": 1, "rereads": 1}]
    only_c = reading_report("deck", "all", None, ROWS, VERSIONS, version=2)
    assert only_c["readers"] == 1 and only_c["pages"] == 3
    assert [p["reached"] for p in only_c["per_page"]] == [1, 1, 1]


def test_without_a_file_the_pages_are_the_highest_page_seen() -> None:
    report = reading_report("deck", "all", None, ROWS, [])
    assert report["versions"] == [] and report["pages"] == 3 and report["readers"] == 4
    assert [p["reached"] for p in report["per_page"]] == [4, 3, 2]


def test_no_readings_gives_no_shares_and_no_pages_without_a_file() -> None:
    empty = reading_report("deck", "7d", None, [], [])
    assert (empty["pages"], empty["readers"], empty["per_page"], empty["most_reread"]) == (
        0, 0, [], [])
    unread = reading_report("deck", "7d", None, [], [V1])
    assert unread["pages"] == 4
    assert unread["per_page"][0] == _page(1, 0, None, 0, None, 0, 0, 0)
    assert unread["versions"][0]["readers"] == 0


def test_most_reread_names_three_pages_by_rereads_then_rereaders_then_page() -> None:
    start = T0 + timedelta(days=20)
    rows = [*_rows(A, start, (1, 10, 2), (2, 10, 3), (3, 10, 2), (4, 10, 2), (5, 10, 1)),
            *_rows(B, start, (3, 10, 1), (4, 10, 2))]
    report = reading_report("deck", "all", None, rows, [])
    # Pages 2 and 4 re-read twice (4 by two readers), 1 and 3 once each.
    assert report["most_reread"] == [{"page": 4, "rereaders": 2, "rereads": 2},
                                     {"page": 2, "rereaders": 1, "rereads": 2},
                                     {"page": 1, "rereaders": 1, "rereads": 1}]


def test_a_reading_belongs_to_the_latest_version_uploaded_by_its_first_slice() -> None:
    assert version_of(T0 - timedelta(microseconds=1), VERSIONS) is None
    assert version_of(T0, VERSIONS) == 1  # uploaded_at <= started: that version
    assert version_of(T2 - timedelta(seconds=1), VERSIONS) == 1
    assert version_of(T2, VERSIONS) == 2
    assert version_of(T0, []) is None


def test_readings_group_their_pages_and_start_at_their_earliest_slice() -> None:
    rows = [{"view_id": A, "page": 2, "engaged_ms": None, "runs": 1, "started_at": T0},
            {"view_id": A, "page": 5, "engaged_ms": 700, "runs": 2,
             "started_at": T0 - timedelta(seconds=1)}]
    reading = readings_of(rows)[A]
    assert reading.started_at == T0 - timedelta(seconds=1)
    assert reading.engaged_ms == {2: 0, 5: 700} and reading.runs == {2: 1, 5: 2}
    assert reading.furthest == 5
