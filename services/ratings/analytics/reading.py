"""How a multi-page document is read, page by page: drop-off, time per page, re-reads and the
split by PDF version (GET /v1/assets/{id}/reading). Pure: no IO, rows passed in.

Definitions (docs/viewer.md): a reading is one view_id (a viewer or t.js view, or a share
link's open); its slices are its dwell events with a page, in reading order. Each input row
is one reading's figures on one page: ``engaged_ms`` summed over its slices there, ``runs``
(how many separate stretches of its slices were on that page) and ``started_at`` (the
reading's first slice). A reading's furthest page is its highest; it reached page p when
furthest >= p. rereads on a page = runs - 1 summed over readings; rereaders = readings with
more than one run there. A reading belongs to the newest version uploaded at or before its
first slice; a reading before any upload belongs to no version.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

__all__ = ["Reading", "readings_of", "reading_report", "version_of"]

#: How many pages the "most re-read" list names.
MOST_REREAD = 3


@dataclass
class Reading:
    """One reading: per page its engaged ms and runs, and when it started."""

    started_at: datetime
    engaged_ms: dict[int, int] = field(default_factory=dict)
    runs: dict[int, int] = field(default_factory=dict)

    @property
    def furthest(self) -> int:
        return max(self.runs)


def readings_of(rows: Iterable[Mapping[str, Any]]) -> dict[UUID, Reading]:
    """Group the per-(reading, page) rows by reading."""
    readings: dict[UUID, Reading] = {}
    for row in rows:
        reading = readings.setdefault(row["view_id"], Reading(row["started_at"]))
        reading.started_at = min(reading.started_at, row["started_at"])
        page = int(row["page"])
        reading.engaged_ms[page] = int(row["engaged_ms"] or 0)
        reading.runs[page] = int(row["runs"])
    return readings


def version_of(started_at: datetime, versions: Sequence[Mapping[str, Any]]) -> int | None:
    """The version that was the latest when the reading started (None: before any)."""
    uploaded = [v for v in versions if v["uploaded_at"] <= started_at]
    if not uploaded:
        return None
    return int(max(uploaded, key=lambda v: (v["uploaded_at"], v["version"]))["version"])


def _page(page: int, readings: list[Reading]) -> dict[str, Any]:
    on_page = [r for r in readings if page in r.runs]
    engaged = [r.engaged_ms[page] for r in on_page if r.engaged_ms[page] > 0]
    reached = sum(1 for r in readings if r.furthest >= page)
    return {
        "page": page,
        "reached": reached,
        "reached_share": round(reached / len(readings), 4) if readings else None,
        "readers": len(engaged),
        "median_ms": statistics.median(engaged) if engaged else None,
        "total_ms": sum(engaged),
        "rereaders": sum(1 for r in on_page if r.runs[page] > 1),
        "rereads": sum(r.runs[page] - 1 for r in on_page),
    }


def _page_count(chosen: int | None, versions: Sequence[Mapping[str, Any]],
                readings: list[Reading]) -> int:
    """The chosen version's pages; else the latest version's; without a file, the highest
    page any reading saw."""
    by_number = {int(v["version"]): int(v["pages"]) for v in versions}
    if chosen is not None:
        return by_number[chosen]
    if by_number:
        return by_number[max(by_number)]
    return max((r.furthest for r in readings), default=0)


def reading_report(asset_id: str, window: str, since: Any,
                   rows: Iterable[Mapping[str, Any]],
                   versions: Sequence[Mapping[str, Any]],
                   version: int | None = None) -> dict[str, Any]:
    """The /reading answer over every reading (``version`` None) or one version's;
    ``versions`` are the asset's PDF versions and ``version`` one of them."""
    all_readings = readings_of(rows)
    version_by_reading = {key: version_of(r.started_at, versions)
                          for key, r in all_readings.items()}
    readings = [r for key, r in all_readings.items()
                if version is None or version_by_reading[key] == version]
    pages = _page_count(version, versions, readings)
    per_page = [_page(p, readings) for p in range(1, pages + 1)]
    reread = sorted((p for p in per_page if p["rereads"] > 0),
                    key=lambda p: (-p["rereads"], -p["rereaders"], p["page"]))
    readers_by_version = [v for v in version_by_reading.values() if v is not None]
    return {
        "asset_id": asset_id, "window": window,
        "since": since.isoformat() if since else None,
        "version": version,
        "versions": [
            {"version": v["version"], "pages": v["pages"],
             "uploaded_at": v["uploaded_at"].isoformat(),
             "readers": readers_by_version.count(v["version"])}
            for v in sorted(versions, key=lambda v: -int(v["version"]))],
        "pages": pages,
        "readers": len(readings),
        "per_page": per_page,
        "most_reread": [{k: p[k] for k in ("page", "rereaders", "rereads")}
                        for p in reread[:MOST_REREAD]],
    }
