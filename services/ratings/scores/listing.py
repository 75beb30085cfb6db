"""Filter, sort and export score states: the same rules for ``GET /v1/scores``, its CSV
and the SSE stream's filter. Pure: no IO."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.scores import AssetScoreUpdate, UsageTotals

__all__ = [
    "SORT_KEYS",
    "ScoreFilter",
    "csv_rows",
    "idle_since",
    "merge_catalog",
    "sort_states",
    "to_csv",
]


@dataclass(frozen=True)
class ScoreFilter:
    """Which assets a list or a stream shows; every field left None matches all."""

    assets: frozenset[str] | None = None
    owner: str | None = None
    asset_type: str | None = None
    stage: str | None = None
    text: str | None = None
    #: Only assets with no usage since this moment (or never): the stale-content view.
    idle_since: datetime | None = None

    def matches(self, state: AssetScoreUpdate) -> bool:
        if self.assets is not None and state.asset_id not in self.assets:
            return False
        if self.owner is not None and state.owner_email.lower() != self.owner.lower():
            return False
        if self.asset_type is not None and state.asset_type != self.asset_type:
            return False
        if self.stage is not None and state.stage != self.stage:
            return False
        if self.text is not None:
            needle = self.text.lower()
            if needle not in state.title.lower() and needle not in state.asset_id:
                return False
        if self.idle_since is not None and state.last_event_at is not None:
            return state.last_event_at < self.idle_since
        return True


def merge_catalog(row: Mapping[str, Any], state: Mapping[str, Any] | None,
                  now: datetime) -> AssetScoreUpdate:
    """The stored state with the catalog's current title, type, stage and owner (an edit
    since the last score wins); an asset never scored gets an empty state."""
    catalog = {
        "asset_id": row["id"], "title": row["title"], "asset_type": row["type"],
        "stage": row["stage"], "owner_email": row["owner_email"],
    }
    if state is None:
        return AssetScoreUpdate(**catalog, totals=UsageTotals(), updated_at=now)
    return AssetScoreUpdate.model_validate({**state, **catalog})


def _score(state: AssetScoreUpdate, window: str) -> Any:
    s = state.scores.get(window)
    return -1 if s is None else s.score


def _window_field(name: str) -> Any:
    def key(state: AssetScoreUpdate, window: str) -> Any:
        s = state.scores.get(window)
        return -1 if s is None else getattr(s, name)
    return key


def _rating(state: AssetScoreUpdate, window: str) -> Any:
    s = state.scores.get(window)
    return (-1.0, -1.0) if s is None else (s.wilson_lower_bound, s.bayesian_average)


def _trend(state: AssetScoreUpdate, window: str) -> Any:
    s = state.scores.get(window)
    if s is None or s.previous_score is None:
        return 0
    return s.score - s.previous_score


def _last_event(state: AssetScoreUpdate, window: str) -> Any:
    return state.last_event_at.timestamp() if state.last_event_at else float("-inf")


SORT_KEYS = {
    "score": _score,
    "rating": _rating,
    "views": _window_field("views"),
    "viewer_days": _window_field("viewer_days"),
    "downloads": _window_field("downloads"),
    "engaged_ms_per_view": _window_field("engaged_ms_per_view"),
    "trend": _trend,
    "title": lambda state, window: state.title.lower(),
    "last_event_at": _last_event,
}


def sort_states(
    states: Iterable[AssetScoreUpdate], sort: str, window: str
) -> list[AssetScoreUpdate]:
    """``sort`` is a key of SORT_KEYS, '-' first for descending; ties go by title, then id."""
    descending = sort.startswith("-")
    key = SORT_KEYS[sort.lstrip("-")]
    ordered = sorted(states, key=lambda s: (s.title.lower(), s.asset_id))
    return sorted(ordered, key=lambda s: key(s, window), reverse=descending)


CSV_COLUMNS = (
    "asset_id", "title", "type", "stage", "owner_email", "window", "since", "score",
    "previous_score", "trend", "bayesian_average", "rating_count", "wilson_lower_bound",
    "views", "viewer_days", "downloads", "engaged_ms_per_view", "last_event_at",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """Spreadsheets run a cell that starts like a formula; a title is text, so quote it."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return "" if value is None else value


def csv_rows(states: Sequence[AssetScoreUpdate], window: str) -> list[list[Any]]:
    rows = []
    for state in states:
        s = state.scores.get(window)
        figures: list[Any] = (
            [s.since, s.score, s.previous_score, s.trend, s.bayesian_average, s.rating_count,
             s.wilson_lower_bound, s.views, s.viewer_days, s.downloads, s.engaged_ms_per_view]
            if s is not None else [None] * 11
        )
        rows.append([
            state.asset_id, state.title, state.asset_type, state.stage, state.owner_email,
            window, *figures,
            state.last_event_at.isoformat() if state.last_event_at else None,
        ])
    return rows


def to_csv(states: Sequence[AssetScoreUpdate], window: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    writer.writerows([_cell(v) for v in row] for row in csv_rows(states, window))
    return out.getvalue()


def idle_since(now: datetime, stale_days: int | None) -> datetime | None:
    return None if stale_days is None else now - timedelta(days=stale_days)
