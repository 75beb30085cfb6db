"""A rating change as the store applies it, the rating API's bodies, and what became of a
one-tap rating command."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.events import Source

__all__ = ["Outcome", "RatingChange", "RatingContext", "RatingIn"]


@dataclass(frozen=True)
class RatingChange:
    asset_id: str
    user_id: int
    stars: int | None  # None withdraws the rating
    at: datetime
    source: Source
    comment: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    command_id: UUID | None = None


class RatingContext(BaseModel):
    model_config = ConfigDict(extra="forbid")
    deal_stage: str | None = Field(None, max_length=100, examples=["negotiation"])
    segment: str | None = Field(None, max_length=100, examples=["mid-market"])


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    stars: int = Field(ge=1, le=5, description="1 to 5")
    comment: str | None = Field(None, max_length=2000, description="Why, in a sentence")
    context: RatingContext = Field(default_factory=RatingContext)


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    UNCHANGED = "unchanged"
    UNKNOWN_USER = "unknown_user"
    UNKNOWN_ASSET = "unknown_asset"
    OWN_ASSET = "own_asset"
