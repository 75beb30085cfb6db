"""The content score: one number from 0 to 100 per asset and window. Pure: no IO, no clock.

It is meant to be checked by hand (docs/scoring.md), so every part is simple:

    score = 100 × (0.6 × rating part + 0.4 × engagement part)

- rating part     = (Bayesian average − 1) / 4, so 1 star → 0 and 5 stars → 1;
- engagement part = the mean of three percentile ranks *within the asset's type*: unique
  viewers, engaged time per view, downloads. A percentile rank is the share of same-type
  peers the asset beats, ties counting half; an asset with no peers gets 0.5 (neutral).
  A zero scores 0 whatever the peers: an asset nobody opened is not "average".

Rankings of ratings use the Wilson lower bound of the share of 4-5 star votes, so one
5-star vote cannot top a board held by forty 4.5-star votes.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "AssetSignals",
    "ContentScore",
    "Weights",
    "content_scores",
    "percentile_rank",
    "trend",
    "wilson_interval",
    "wilson_lower_bound",
]


@dataclass(frozen=True)
class Weights:
    rating: float = 0.6
    engagement: float = 0.4

    def __post_init__(self) -> None:
        if self.rating < 0 or self.engagement < 0 or self.rating + self.engagement <= 0:
            raise ValueError("weights must be non-negative and not both zero")


@dataclass(frozen=True)
class AssetSignals:
    asset_id: str
    asset_type: str
    bayesian_average: float  # 1..5, from shared.rating_math
    unique_viewers: int
    engaged_ms_per_view: float
    downloads: int


@dataclass(frozen=True)
class ContentScore:
    asset_id: str
    score: int
    rating_part: float
    engagement_part: float
    viewers_percentile: float
    engagement_percentile: float
    downloads_percentile: float


def percentile_rank(value: float, peers: Sequence[float]) -> float:
    """Share of ``peers`` that ``value`` beats, ties counting half; 0.5 with no peers.
    Zero beats nobody and scores 0, ties included: no views is not "average"."""
    if value <= 0:
        return 0.0
    if not peers:
        return 0.5
    below = sum(1 for p in peers if p < value)
    ties = sum(1 for p in peers if p == value)
    return (below + ties / 2) / len(peers)


class _SortedPeers:
    """One type's values, sorted once: each asset's percentile rank among the *others*
    in O(log n), so rescoring a type of thousands of assets stays cheap."""

    def __init__(self, values: Sequence[float]) -> None:
        self.values = sorted(values)

    def rank_of_member(self, value: float) -> float:
        """``percentile_rank(value, the other values)`` for a value that is a member."""
        if value <= 0:
            return 0.0
        others = len(self.values) - 1
        if others == 0:
            return 0.5
        below = bisect.bisect_left(self.values, value)
        ties = bisect.bisect_right(self.values, value) - below - 1  # not itself
        return (below + ties / 2) / others


def content_scores(
    signals: Sequence[AssetSignals], weights: Weights = Weights()
) -> dict[str, ContentScore]:
    by_type: dict[str, list[AssetSignals]] = defaultdict(list)
    for s in signals:
        by_type[s.asset_type].append(s)
    ranked = {
        asset_type: (
            _SortedPeers([m.unique_viewers for m in members]),
            _SortedPeers([m.engaged_ms_per_view for m in members]),
            _SortedPeers([m.downloads for m in members]),
        )
        for asset_type, members in by_type.items()
    }
    total_weight = weights.rating + weights.engagement
    scores: dict[str, ContentScore] = {}
    for s in signals:
        by_viewers, by_engagement, by_downloads = ranked[s.asset_type]
        viewers = by_viewers.rank_of_member(s.unique_viewers)
        engaged = by_engagement.rank_of_member(s.engaged_ms_per_view)
        downloads = by_downloads.rank_of_member(s.downloads)
        rating_part = min(1.0, max(0.0, (s.bayesian_average - 1.0) / 4.0))
        engagement_part = (viewers + engaged + downloads) / 3
        blended = (weights.rating * rating_part + weights.engagement * engagement_part)
        scores[s.asset_id] = ContentScore(
            asset_id=s.asset_id,
            score=round(100 * blended / total_weight),
            rating_part=rating_part,
            engagement_part=engagement_part,
            viewers_percentile=viewers,
            engagement_percentile=engaged,
            downloads_percentile=downloads,
        )
    return scores


def wilson_interval(positive: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of the true share of positive (4-5 star) votes after
    ``positive`` of ``total``; (0, 1) with no votes. z = 1.96: 95%, two-sided."""
    if total <= 0:
        return 0.0, 1.0
    if not 0 <= positive <= total:
        raise ValueError("positive votes must be between 0 and the total")
    share = positive / total
    z2 = z * z
    centre = share + z2 / (2 * total)
    margin = z * math.sqrt(share * (1 - share) / total + z2 / (4 * total * total))
    scale = 1 + z2 / total
    # Clamped: float noise must not leave [0, 1] at 0 or all votes.
    return max(0.0, (centre - margin) / scale), min(1.0, (centre + margin) / scale)


def wilson_lower_bound(positive: int, total: int, z: float = 1.96) -> float:
    """Lower bound of the 95% Wilson interval (the ranking key); 0 with no votes."""
    return wilson_interval(positive, total, z)[0] if total > 0 else 0.0


def trend(current: int, previous: int | None, dead_band: int = 2) -> str:
    """'up', 'down' or 'flat' against the previous period; moves within the dead band are
    noise and read as flat."""
    if previous is None or abs(current - previous) <= dead_band:
        return "flat"
    return "up" if current > previous else "down"
