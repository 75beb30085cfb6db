"""The message on the compacted ``asset-scores`` topic: the latest state of one asset."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

__all__ = ["AssetScoreUpdate", "UsageTotals"]


class UsageTotals(BaseModel):
    model_config = ConfigDict(frozen=True)

    views: int = Field(0, description="Views counted after bot and double-click filtering")
    unique_viewers: int = Field(0, description="Distinct viewers, all time")
    downloads: int = 0
    engaged_ms: int = Field(0, description="Visible and focused time on the asset, summed")
    wall_ms: int = 0


class AssetScoreUpdate(BaseModel):
    """Published after every aggregation batch that touched the asset; keyed by asset_id."""

    model_config = ConfigDict(frozen=True)

    schema_version: int = 1
    asset_id: str
    totals: UsageTotals
    last_event_at: AwareDatetime | None = None
    updated_at: AwareDatetime
