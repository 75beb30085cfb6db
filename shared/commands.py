"""Commands that travel on the ``rating-commands`` topic, from the edge to the ratings service.

A command asks for a change; the ratings service alone decides whether it happens (the
rater and asset must exist, owners cannot rate their own assets) and records the outcome
as a rating event. ``command_id`` makes redelivery harmless: each id is applied once.
Ingest signs each command's exact bytes (shared/command_signing.py) and the ratings
service applies only signed ones: the bus is not trusted with the rater's identity.
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from .events import AssetId, refuse_nul

__all__ = ["COMMENT_MAX_CHARS", "RatingCommand"]

#: Same limit as the ratings API and the ``ratings.comment`` column.
COMMENT_MAX_CHARS = 2000


class RatingCommand(BaseModel):
    """Rate an asset on behalf of a rater who proved who they are with a signed link."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: object) -> object:
        # PostgreSQL text cannot hold NUL: such a command could never be applied.
        return refuse_nul(data)

    command_id: UUID = Field(
        default_factory=uuid4, description="Idempotency key: a command is applied at most once"
    )
    asset_id: AssetId = Field(description="Slug of the rated asset", examples=["pricing-sheet"])
    user_id: int = Field(ge=1, description="The rater: the user the link was signed for")
    stars: int = Field(ge=1, le=5, description="1 to 5")
    comment: Annotated[str, StringConstraints(max_length=COMMENT_MAX_CHARS)] | None = Field(
        None, description="Why, in the rater's words; null = no comment"
    )
    issued_at: AwareDatetime = Field(description="When the rater tapped, per the edge's clock")
    source: Literal["link"] = Field("link", description="Where the command came from")
