"""Per-window content scores of a set of assets, from the window sums the repository read.

Pure: no IO, ``today`` passed in. The formula itself lives in ``shared.scoring`` and the
rating math in ``shared.rating_math``; this module feeds them one window and one period
at a time and packs the result into the ``asset-scores`` message's ``WindowScore``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from shared.rating_math import Histogram, bayesian_average, prior_from
from shared.scores import SCORE_WINDOWS, WindowScore
from shared.scoring import AssetSignals, ContentScore, content_scores, trend, wilson_lower_bound

__all__ = [
    "CURRENT",
    "PREVIOUS",
    "Period",
    "PeriodKey",
    "PeriodUsage",
    "WindowBounds",
    "window_bounds",
    "window_scores",
]

Period = Literal["current", "previous"]
CURRENT: Period = "current"
PREVIOUS: Period = "previous"
#: (asset_id, window name, period)
PeriodKey = tuple[str, str, Period]
#: Floats in the message are rounded so that an unchanged state compares equal.
DECIMALS = 4


@dataclass(frozen=True)
class WindowBounds:
    """First day of the window, and first day of the period of equal length before it."""

    current_from: date
    previous_from: date


def window_bounds(today: date, windows: Mapping[str, int] = SCORE_WINDOWS) -> dict[str, WindowBounds]:
    """'7d' is today and the six days before; its previous period is the seven before that."""
    return {
        name: WindowBounds(today - timedelta(days=days - 1), today - timedelta(days=2 * days - 1))
        for name, days in windows.items()
    }


@dataclass(frozen=True)
class PeriodUsage:
    views: int = 0
    viewer_days: int = 0
    downloads: int = 0
    engaged_ms: int = 0

    @property
    def engaged_ms_per_view(self) -> float:
        return self.engaged_ms / self.views if self.views else 0.0

    @property
    def active(self) -> bool:
        return bool(self.views or self.downloads or self.engaged_ms)


def _catalog_histograms(
    ratings: Mapping[PeriodKey, Mapping[int, int]],
) -> dict[tuple[str, Period], Histogram]:
    """Whole-catalog ratings per (window, period): the prior every asset is pulled to."""
    sums: dict[tuple[str, Period], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for (_, window, period), by_stars in ratings.items():
        for stars, n in by_stars.items():
            sums[(window, period)][stars] += n
    return {key: _histogram(by_stars) for key, by_stars in sums.items()}


def _histogram(by_stars: Mapping[int, int]) -> Histogram:
    # A bucket is negative only while a replacement overtakes what it replaces: read as 0.
    return Histogram.of({stars: max(int(n), 0) for stars, n in by_stars.items()})


def _period_scores(
    asset_types: Mapping[str, str],
    usage: Mapping[PeriodKey, PeriodUsage],
    ratings: Mapping[PeriodKey, Mapping[int, int]],
    catalog: Histogram,
    window: str,
    period: Period,
    prior_weight: float,
) -> tuple[dict[str, ContentScore], dict[str, float]]:
    prior = prior_from(catalog, prior_weight)
    averages: dict[str, float] = {}
    signals = []
    for asset_id, asset_type in asset_types.items():
        used = usage.get((asset_id, window, period), PeriodUsage())
        rated = _histogram(ratings.get((asset_id, window, period), {}))
        averages[asset_id] = bayesian_average(rated, prior)
        signals.append(AssetSignals(
            asset_id=asset_id, asset_type=asset_type, bayesian_average=averages[asset_id],
            unique_viewers=used.viewer_days, engaged_ms_per_view=used.engaged_ms_per_view,
            downloads=used.downloads,
        ))
    return content_scores(signals), averages


def window_scores(
    asset_types: Mapping[str, str],
    usage: Mapping[PeriodKey, PeriodUsage],
    ratings: Mapping[PeriodKey, Mapping[int, int]],
    bounds: Mapping[str, WindowBounds],
    prior_weight: float,
) -> dict[str, dict[str, WindowScore]]:
    """Every asset of ``asset_types`` (its peers are the others of its type there) scored
    for every window, with the trend against the previous period.

    ``ratings`` must cover the whole catalog, not just these assets: the Bayesian prior is
    the catalog-wide mean of the same window.
    """
    catalog = _catalog_histograms(ratings)
    peers: dict[str, int] = defaultdict(int)
    for asset_type in asset_types.values():
        peers[asset_type] += 1
    result: dict[str, dict[str, WindowScore]] = defaultdict(dict)
    for window, bound in bounds.items():
        now, averages = _period_scores(asset_types, usage, ratings,
                                       catalog.get((window, CURRENT), Histogram()),
                                       window, CURRENT, prior_weight)
        before, _ = _period_scores(asset_types, usage, ratings,
                                   catalog.get((window, PREVIOUS), Histogram()),
                                   window, PREVIOUS, prior_weight)
        for asset_id, asset_type in asset_types.items():
            used = usage.get((asset_id, window, CURRENT), PeriodUsage())
            rated = _histogram(ratings.get((asset_id, window, CURRENT), {}))
            previous_active = (
                usage.get((asset_id, window, PREVIOUS), PeriodUsage()).active
                or _histogram(ratings.get((asset_id, window, PREVIOUS), {})).count > 0
            )
            previous = before[asset_id].score if previous_active else None
            positive = rated.counts[3] + rated.counts[4]
            rated_before = _histogram(ratings.get((asset_id, window, PREVIOUS), {}))
            part = now[asset_id]
            result[asset_id][window] = WindowScore(
                since=bound.current_from.isoformat(),
                score=part.score,
                previous_score=previous,
                trend=trend(part.score, previous),  # type: ignore[arg-type]
                bayesian_average=round(averages[asset_id], DECIMALS),
                rating_count=rated.count,
                rating_mean=None if rated.mean is None else round(rated.mean, DECIMALS),
                positive_ratings=positive,
                wilson_lower_bound=round(wilson_lower_bound(positive, rated.count), DECIMALS),
                previous_rating_count=rated_before.count,
                previous_positive_ratings=rated_before.counts[3] + rated_before.counts[4],
                views=used.views,
                previous_views=usage.get((asset_id, window, PREVIOUS), PeriodUsage()).views,
                viewer_days=used.viewer_days,
                downloads=used.downloads,
                engaged_ms=used.engaged_ms,
                engaged_ms_per_view=round(used.engaged_ms_per_view, 1),
                rating_part=round(part.rating_part, DECIMALS),
                engagement_part=round(part.engagement_part, DECIMALS),
                viewers_percentile=round(part.viewers_percentile, DECIMALS),
                engagement_percentile=round(part.engagement_percentile, DECIMALS),
                downloads_percentile=round(part.downloads_percentile, DECIMALS),
                peers=peers[asset_type] - 1,
            )
    return dict(result)
