"""Rate an asset 1 to 5: one rating per rater and asset, replace or withdraw your own."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from shared.events import Source, utcnow

from . import repo
from .auth import current_user
from .rating_store import RatingChange, apply_rating
from .users import User

__all__ = ["rateable_asset", "router"]

router = APIRouter()


class RatingContext(BaseModel):
    model_config = ConfigDict(extra="forbid")
    deal_stage: str | None = Field(None, max_length=100, examples=["negotiation"])
    segment: str | None = Field(None, max_length=100, examples=["mid-market"])


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    stars: int = Field(ge=1, le=5, description="1 to 5")
    comment: str | None = Field(None, max_length=2000, description="Why, in a sentence")
    context: RatingContext = Field(default_factory=RatingContext)


async def rateable_asset(request: Request, asset_id: str, user: User) -> dict[str, Any]:
    """The asset, if it exists and ``user`` may rate it (owners may not): else 404 or 403."""
    asset = await repo.fetch_asset(request.app.state.pool, asset_id, user.id)
    if asset is None:
        raise HTTPException(404, f"unknown asset {asset_id!r}")
    if asset["owner_id"] == user.id:
        raise HTTPException(403, "owners cannot rate their own assets: ratings must be candid")
    return asset


async def _change(request: Request, change: RatingChange) -> None:
    async with request.app.state.pool.acquire() as conn, conn.transaction():
        await apply_rating(conn, change)
    request.app.state.outbox.nudge()


@router.put("/v1/assets/{asset_id}/rating")
async def rate(asset_id: str, body: RatingIn, request: Request,
               user: User = Depends(current_user)) -> dict[str, Any]:
    """Rate, or rate again (replaces your rating)."""
    await rateable_asset(request, asset_id, user)
    await _change(request, RatingChange(
        asset_id=asset_id, user_id=user.id, stars=body.stars, at=utcnow(), source=Source.API,
        comment=body.comment or None, context=body.context.model_dump(exclude_none=True),
    ))
    return {"asset_id": asset_id, "stars": body.stars, "comment": body.comment or None}


@router.delete("/v1/assets/{asset_id}/rating", status_code=204)
async def withdraw(asset_id: str, request: Request, user: User = Depends(current_user)) -> Response:
    await rateable_asset(request, asset_id, user)
    await _change(request, RatingChange(asset_id=asset_id, user_id=user.id, stars=None,
                                        at=utcnow(), source=Source.API))
    return Response(status_code=204)


@router.get("/v1/assets/{asset_id}/rating")
async def my_rating(asset_id: str, request: Request,
                    user: User = Depends(current_user)) -> dict[str, Any]:
    asset = await repo.fetch_asset(request.app.state.pool, asset_id, user.id)
    if asset is None:
        raise HTTPException(404, f"unknown asset {asset_id!r}")
    return {"asset_id": asset_id, "stars": asset["my_stars"], "comment": asset["my_comment"]}


@router.api_route("/v1/assets/{asset_id}/ratings/{user_id}", methods=["PUT", "DELETE"])
async def someone_elses_rating(asset_id: str, user_id: int,
                               user: User = Depends(current_user)) -> None:
    """Nobody changes another person's rating, admins included: one rater, one vote."""
    if user_id != user.id:
        raise HTTPException(403, "you can only change your own rating")
    raise HTTPException(405, "use PUT or DELETE /v1/assets/{asset_id}/rating")
