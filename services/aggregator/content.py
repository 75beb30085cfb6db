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
    "ScoredWindow",
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


_NO_RATINGS = Histogram()


def _histogram(by_stars: Mapping[int, int]) -> Histogram:
    # A bucket is negative only while a replacement overtakes what it replaces: read as 0.
    if not by_stars:
        return _NO_RATINGS  # most assets in most windows: skip building one
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


@dataclass(frozen=True, slots=True)
class ScoredWindow:
    """One asset's score in one window, kept as the figures it came from. Rescoring a
    type computes one per peer per window; only those published become a WindowScore."""

    since: date
    part: ContentScore
    previous_score: int | None
    bayesian_average: float
    rated: Histogram
    rated_before: Histogram
    used: PeriodUsage
    used_before: PeriodUsage
    peers: int

    @property
    def headline(self) -> tuple[int, int | None, str]:
        """What a reader sees at a glance: score, previous score, trend."""
        return (self.part.score, self.previous_score, trend(self.part.score, self.previous_score))

    def model(self) -> WindowScore:
        part, rated = self.part, self.rated
        positive = rated.counts[3] + rated.counts[4]
        # Built from figures computed here, so validation is skipped: for a catalog of
        # hundreds it cost more than the arithmetic (bench/).
        return WindowScore.model_construct(
            since=self.since.isoformat(),
            score=part.score,
            previous_score=self.previous_score,
            trend=self.headline[2],  # type: ignore[arg-type]
            bayesian_average=round(self.bayesian_average, DECIMALS),
            rating_count=rated.count,
            rating_mean=None if rated.mean is None else round(rated.mean, DECIMALS),
            positive_ratings=positive,
            wilson_lower_bound=round(wilson_lower_bound(positive, rated.count), DECIMALS),
            previous_rating_count=self.rated_before.count,
            previous_positive_ratings=self.rated_before.counts[3] + self.rated_before.counts[4],
            views=self.used.views,
            previous_views=self.used_before.views,
            viewer_days=self.used.viewer_days,
            downloads=self.used.downloads,
            engaged_ms=self.used.engaged_ms,
            engaged_ms_per_view=round(self.used.engaged_ms_per_view, 1),
            rating_part=round(part.rating_part, DECIMALS),
            engagement_part=round(part.engagement_part, DECIMALS),
            viewers_percentile=round(part.viewers_percentile, DECIMALS),
            engagement_percentile=round(part.engagement_percentile, DECIMALS),
            downloads_percentile=round(part.downloads_percentile, DECIMALS),
            peers=self.peers,
        )


_NO_USAGE = PeriodUsage()


def window_scores(
    asset_types: Mapping[str, str],
    usage: Mapping[PeriodKey, PeriodUsage],
    ratings: Mapping[PeriodKey, Mapping[int, int]],
    bounds: Mapping[str, WindowBounds],
    prior_weight: float,
) -> dict[str, dict[str, ScoredWindow]]:
    """Every asset of ``asset_types`` (its peers are the others of its type there) scored
    for every window, with the trend against the previous period.

    ``ratings`` must cover the whole catalog, not just these assets: the Bayesian prior is
    the catalog-wide mean of the same window.
    """
    catalog = _catalog_histograms(ratings)
    peers: dict[str, int] = defaultdict(int)
    for asset_type in asset_types.values():
        peers[asset_type] += 1
    result: dict[str, dict[str, ScoredWindow]] = defaultdict(dict)
    for window, bound in bounds.items():
        now, averages = _period_scores(asset_types, usage, ratings,
                                       catalog.get((window, CURRENT), Histogram()),
                                       window, CURRENT, prior_weight)
        before, _ = _period_scores(asset_types, usage, ratings,
                                   catalog.get((window, PREVIOUS), Histogram()),
                                   window, PREVIOUS, prior_weight)
        for asset_id, asset_type in asset_types.items():
            used_before = usage.get((asset_id, window, PREVIOUS), _NO_USAGE)
            rated_before = _histogram(ratings.get((asset_id, window, PREVIOUS), {}))
            previous_active = used_before.active or rated_before.count > 0
            result[asset_id][window] = ScoredWindow(
                since=bound.current_from,
                part=now[asset_id],
                previous_score=before[asset_id].score if previous_active else None,
                bayesian_average=averages[asset_id],
                rated=_histogram(ratings.get((asset_id, window, CURRENT), {})),
                rated_before=rated_before,
                used=usage.get((asset_id, window, CURRENT), _NO_USAGE),
                used_before=used_before,
                peers=peers[asset_type] - 1,
            )
    return dict(result)
