"""The catalog API: every route needs a signed-in user; creating and editing assets needs
marketing or admin."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from ..identity.auth import current_user, require_role
from ..identity.models import Role, User
from . import store
from .models import AssetIn

__all__ = ["router", "unknown_asset"]

router = APIRouter(dependencies=[Depends(current_user)])
editor = require_role(Role.MARKETING, Role.ADMIN)


def unknown_asset(asset_id: str) -> HTTPException:
    return HTTPException(404, f"unknown asset {asset_id!r}")


@router.post("/v1/assets", status_code=201)
async def create_asset(asset: AssetIn, request: Request, _: User = Depends(editor)) -> Any:
    created = await store.insert_asset(request.app.state.pool, asset)
    if created is None:
        raise HTTPException(409, f"asset {asset.id!r} already exists")
    return created


@router.put("/v1/assets/{asset_id}")
async def replace_asset(asset_id: str, asset: AssetIn, request: Request,
                        _: User = Depends(editor)) -> Any:
    if asset.id != asset_id:
        raise HTTPException(422, "the id in the body must match the URL; ids never change")
    updated = await store.update_asset(request.app.state.pool, asset)
    if updated is None:
        raise unknown_asset(asset_id)
    return updated


@router.delete("/v1/assets/{asset_id}", status_code=204)
async def delete_asset(asset_id: str, request: Request, _: User = Depends(editor)) -> Response:
    if not await store.delete_asset(request.app.state.pool, asset_id):
        raise unknown_asset(asset_id)
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
    assets = await store.list_assets(request.app.state.pool, user.id, q=q or None,
                                     asset_type=type, stage=stage, tag=tag, recent=recent)
    return {"assets": assets}


@router.get("/v1/assets/{asset_id}")
async def get_asset(asset_id: str, request: Request, user: User = Depends(current_user)) -> Any:
    pool = request.app.state.pool
    asset = await store.fetch_asset(pool, asset_id, user.id)
    if asset is None:
        raise unknown_asset(asset_id)
    await store.record_view(pool, user.id, asset_id)
    return asset
