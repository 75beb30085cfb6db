"""Rate an asset 1 to 5: one rating per rater and asset, replace or withdraw your own; and
your personal one-tap rating links. Signed-in users only."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response

from shared.events import Source, utcnow
from shared.signing import rating_link_url
from shared.web.params import RowId

from ..catalog.routes import unknown_asset
from ..catalog.store import fetch_asset
from ..identity.auth import current_user
from ..identity.models import User
from .links import LINK_LIFETIME_SECONDS, rating_links_html
from .models import RatingChange, RatingIn
from .store import apply_rating

__all__ = ["rateable_asset", "router"]

router = APIRouter(dependencies=[Depends(current_user)])


async def rateable_asset(request: Request, asset_id: str, user: User) -> dict[str, Any]:
    """The asset, if it exists and ``user`` may rate it (owners may not): else 404 or 403."""
    asset = await fetch_asset(request.app.state.pool, asset_id, user.id)
    if asset is None:
        raise unknown_asset(asset_id)
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
    asset = await fetch_asset(request.app.state.pool, asset_id, user.id)
    if asset is None:
        raise unknown_asset(asset_id)
    return {"asset_id": asset_id, "stars": asset["my_stars"], "comment": asset["my_comment"]}


@router.api_route("/v1/assets/{asset_id}/ratings/{user_id}", methods=["PUT", "DELETE"])
async def someone_elses_rating(asset_id: str, user_id: RowId,
                               user: User = Depends(current_user)) -> None:
    """Nobody changes another person's rating, admins included: one rater, one vote."""
    if user_id != user.id:
        raise HTTPException(403, "you can only change your own rating")
    raise HTTPException(405, "use PUT or DELETE /v1/assets/{asset_id}/rating")


@router.get("/v1/assets/{asset_id}/rating-links")
async def rating_links(asset_id: str, request: Request,
                       user: User = Depends(current_user)) -> dict[str, Any]:
    """Your five one-tap links (1 to 5 stars) for this asset, valid for 30 days."""
    asset = await rateable_asset(request, asset_id, user)
    settings = request.app.state.settings
    expires_at = int(time.time()) + LINK_LIFETIME_SECONDS
    secret = settings.signing_secret.get_secret_value()
    urls = [rating_link_url(settings.ingest_base_url, secret, asset_id, user.id, n, expires_at)
            for n in range(1, 6)]
    return {
        "asset_id": asset_id,
        "user_id": user.id,
        "expires_at": datetime.fromtimestamp(expires_at, timezone.utc).isoformat(),
        "links": [{"stars": n, "url": url} for n, url in enumerate(urls, start=1)],
        "html": rating_links_html(asset["title"], urls),
    }
