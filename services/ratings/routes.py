"""The ratings app's API (issue 2 part): catalog, usage reads, rejected-event counts."""

from __future__ import annotations

from datetime import datetime, time, timezone
from typing import Any, Literal

import asyncpg
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from . import repo
from .catalog import AssetIn
from .usage import usage_report, window_start

__all__ = ["router"]

router = APIRouter()


def _pool(request: Request) -> asyncpg.Pool:
    return request.app.state.pool  # type: ignore[no-any-return]


def _today() -> Any:
    return datetime.now(timezone.utc).date()


@router.post("/v1/assets", status_code=201)
async def create_asset(asset: AssetIn, request: Request) -> Any:
    created = await repo.insert_asset(_pool(request), asset)
    if created is None:
        raise HTTPException(409, f"asset {asset.id!r} already exists")
    return created


@router.get("/v1/assets")
async def list_assets(request: Request) -> dict[str, Any]:
    return {"assets": await repo.list_assets(_pool(request))}


@router.get("/v1/assets/{asset_id}")
async def get_asset(asset_id: str, request: Request) -> Any:
    asset = await repo.fetch_asset(_pool(request), asset_id)
    if asset is None:
        raise HTTPException(404, f"unknown asset {asset_id!r}")
    return asset


@router.get("/v1/assets/{asset_id}/usage")
async def asset_usage(
    asset_id: str,
    request: Request,
    window: Literal["7d", "30d", "90d", "all"] = Query("30d"),
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
    request: Request, window: Literal["7d", "30d", "90d", "all"] = Query("7d")
) -> dict[str, Any]:
    """What was filtered and why (unknown asset, bot, invalid), Snowplow-style."""
    since_day = window_start(window, _today())
    since = datetime.combine(since_day, time.min, timezone.utc) if since_day else None
    by_reason = await repo.rejected_summary(_pool(request), since)
    return {"window": window, "total": sum(by_reason.values()), "by_reason": by_reason}


@router.get("/healthz", include_in_schema=False)
async def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"})
