"""The message on the compacted ``asset-scores`` topic: the latest state of one asset.

Readers keep, per asset, the message with the highest ``revision``: revisions are given in
commit order by the aggregators, so a higher one is always the newer state, even when two
aggregators' publishes cross on the wire. docs/score-stream.md documents every field.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

__all__ = [
    "DEFAULT_WINDOW",
    "SCORE_WINDOWS",
    "AssetScoreUpdate",
    "RatingSummary",
    "UsageTotals",
    "WindowScore",
]

#: The windows every content score is computed for, in days; 90 is the default view.
SCORE_WINDOWS: dict[str, int] = {"7d": 7, "30d": 30, "90d": 90, "120d": 120}
DEFAULT_WINDOW = "90d"

Trend = Literal["up", "down", "flat"]


class UsageTotals(BaseModel):
    model_config = ConfigDict(frozen=True)

    views: int = Field(0, description="Views counted after bot and double-click filtering")
    unique_viewers: int = Field(0, description="Distinct viewers, all time")
    downloads: int = 0
    engaged_ms: int = Field(0, description="Visible and focused time on the asset, summed")
    wall_ms: int = 0


def _empty_histogram() -> dict[str, int]:
    return {str(stars): 0 for stars in range(1, 6)}


class RatingSummary(BaseModel):
    """All-time current ratings of one asset (withdrawn and replaced ones excluded)."""

    model_config = ConfigDict(frozen=True)

    count: int = Field(0, description="Current ratings")
    mean: float | None = Field(None, description="Mean stars; null without ratings")
    histogram: dict[str, int] = Field(
        default_factory=_empty_histogram, description='Ratings per stars, "1" to "5"'
    )


class WindowScore(BaseModel):
    """The content score of one asset over one window of UTC days, and what it is made of
    (docs/scoring.md shows how to recompute it by hand from these fields)."""

    model_config = ConfigDict(frozen=True)

    since: str = Field(description="First UTC day inside the window (ISO date)")
    score: int = Field(ge=0, le=100, description="Content score, 0 to 100")
    previous_score: int | None = Field(
        None, description="Score over the period of the same length just before; null when "
        "the asset had no views and no ratings then")
    trend: Trend = Field("flat", description="up/down when the score moved by more than 2")
    bayesian_average: float = Field(description="Stars pulled towards the catalog mean")
    rating_count: int = Field(0, description="Ratings given inside the window")
    rating_mean: float | None = None
    positive_ratings: int = Field(0, description="4 and 5 star ratings inside the window")
    wilson_lower_bound: float = Field(
        0.0, description="95% lower bound of the share of 4-5 star ratings; ranks by rating")
    previous_rating_count: int = Field(0, description="Ratings given in the previous period")
    previous_positive_ratings: int = 0
    views: int = 0
    previous_views: int = Field(0, description="Views in the previous period")
    viewer_days: int = Field(0, description="Unique viewers per day, added up over the window")
    downloads: int = 0
    engaged_ms: int = 0
    engaged_ms_per_view: float = 0.0
    rating_part: float = Field(description="(bayesian_average - 1) / 4")
    engagement_part: float = Field(description="Mean of the three in-type percentiles")
    viewers_percentile: float
    engagement_percentile: float
    downloads_percentile: float
    peers: int = Field(0, description="Other assets of the same type it was compared with")


class AssetScoreUpdate(BaseModel):
    """Published after every aggregation batch that changed the asset; keyed by asset_id."""

    model_config = ConfigDict(frozen=True)

    #: 1: usage totals only (issue 2); ratings added without a bump (issue 3, defaulted).
    #: 2: catalog fields, revision and the per-window content scores (issue 4).
    schema_version: int = 2
    asset_id: str
    revision: int = Field(0, description="Commit-ordered; keep the highest per asset")
    title: str = ""
    asset_type: str = ""
    stage: str | None = None
    owner_email: str = ""
    totals: UsageTotals
    last_event_at: AwareDatetime | None = None
    updated_at: AwareDatetime
    ratings: RatingSummary = Field(default_factory=RatingSummary)
    scores: dict[str, WindowScore] = Field(
        default_factory=dict, description='Per window: "7d", "30d", "90d", "120d"')
    weekly_views: list[int] = Field(
        default_factory=list,
        description="Views in each of the last 5 seven-day periods, the current one first "
        "(today and the 6 days before)")
