"""The message on the compacted ``asset-scores`` topic: the latest state of one asset."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

__all__ = ["AssetScoreUpdate", "RatingSummary", "UsageTotals"]


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


class AssetScoreUpdate(BaseModel):
    """Published after every aggregation batch that touched the asset; keyed by asset_id."""

    model_config = ConfigDict(frozen=True)

    schema_version: int = 1
    asset_id: str
    totals: UsageTotals
    last_event_at: AwareDatetime | None = None
    updated_at: AwareDatetime
    #: Added in issue 3; older messages without it read as "no ratings".
    ratings: RatingSummary = Field(default_factory=RatingSummary)
