"""The ratings app's catalog and usage API. Reading needs a signed-in user; creating and
editing assets needs marketing or admin."""

from __future__ import annotations

from datetime import datetime, time, timezone
from typing import Any, Literal

import asyncpg
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from . import repo
from .auth import current_user, require_role
from .catalog import AssetIn
from .usage import usage_report, window_start
from .users import Role, User

__all__ = ["router"]

router = APIRouter()
editor = require_role(Role.MARKETING, Role.ADMIN)


def _pool(request: Request) -> asyncpg.Pool:
    return request.app.state.pool  # type: ignore[no-any-return]


def _today() -> Any:
    return datetime.now(timezone.utc).date()


@router.post("/v1/assets", status_code=201)
async def create_asset(asset: AssetIn, request: Request, _: User = Depends(editor)) -> Any:
    created = await repo.insert_asset(_pool(request), asset)
    if created is None:
        raise HTTPException(409, f"asset {asset.id!r} already exists")
    return created


@router.put("/v1/assets/{asset_id}")
async def replace_asset(asset_id: str, asset: AssetIn, request: Request,
                        _: User = Depends(editor)) -> Any:
    if asset.id != asset_id:
        raise HTTPException(422, "the id in the body must match the URL; ids never change")
    updated = await repo.update_asset(_pool(request), asset)
    if updated is None:
        raise HTTPException(404, f"unknown asset {asset_id!r}")
    return updated


@router.delete("/v1/assets/{asset_id}", status_code=204)
async def delete_asset(asset_id: str, request: Request, _: User = Depends(editor)) -> Response:
    if not await repo.delete_asset(_pool(request), asset_id):
        raise HTTPException(404, f"unknown asset {asset_id!r}")
    return Response(status_code=204)


@router.get("/v1/assets")
async def list_assets(
    request: Request,
    user: User = Depends(current_user),
    q: str | None = Query(None, max_length=100, description="Search in title, id and tags"),
    type: str | None = Query(None),
    stage: str | None = Query(None),
    tag: str | None = Query(None),
    recent: bool = Query(False, description="Only assets I viewed, most recent first"),
) -> dict[str, Any]:
    assets = await repo.list_assets(_pool(request), user.id, q=q or None, asset_type=type,
                                    stage=stage, tag=tag, recent=recent)
    return {"assets": assets}


@router.get("/v1/assets/{asset_id}")
async def get_asset(asset_id: str, request: Request, user: User = Depends(current_user)) -> Any:
    pool = _pool(request)
    asset = await repo.fetch_asset(pool, asset_id, user.id)
    if asset is None:
        raise HTTPException(404, f"unknown asset {asset_id!r}")
    await repo.record_view(pool, user.id, asset_id)
    return asset


@router.get("/v1/assets/{asset_id}/usage")
async def asset_usage(
    asset_id: str,
    request: Request,
    window: Literal["7d", "30d", "90d", "all"] = Query("30d"),
    _: User = Depends(current_user),
) -> dict[str, Any]:
    """Views, unique viewers, downloads, dwell and device mix over a window of UTC days."""
    pool = _pool(request)
    if await repo.fetch_asset(pool, asset_id) is None:
        raise HTTPException(404, f"unknown asset {asset_id!r}")
    since = window_start(window, _today())
    counters, uniques, dwell = await repo.fetch_usage_rows(pool, asset_id, since)
    return usage_report(asset_id, window, since, counters, uniques, dwell)


@router.get("/v1/rejected-events/summary")
async def rejected_events_summary(
    request: Request,
    window: Literal["7d", "30d", "90d", "all"] = Query("7d"),
    _: User = Depends(current_user),
) -> dict[str, Any]:
    """What was filtered and why (unknown asset, bot, invalid), Snowplow-style."""
    since_day = window_start(window, _today())
    since = datetime.combine(since_day, time.min, timezone.utc) if since_day else None
    by_reason = await repo.rejected_summary(_pool(request), since)
    return {"window": window, "total": sum(by_reason.values()), "by_reason": by_reason}

