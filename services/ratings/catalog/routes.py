"""The catalog API: every route needs a signed-in user; creating and editing assets needs
marketing or admin.

Only an asset's owner or an admin edits or deletes it (its URL is where ingest's /d/ID
sends readers); only an admin hands it to another owner, who must be an active user:
nothing here creates an account. Deleting marks the asset deleted and withdraws its ratings
through the rating outbox in the same transaction (migration 0011 says why).
"""

from __future__ import annotations

from typing import Any

import asyncpg
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError

from shared.events import utcnow

from ..identity.auth import current_user, require_role
from ..identity.models import Role, User
from ..identity.store import user_by_email
from ..rating.store import withdraw_all
from . import store
from .models import AssetIn

__all__ = ["editor", "may_change", "router", "unknown_asset"]

router = APIRouter(dependencies=[Depends(current_user)])
editor = require_role(Role.MARKETING, Role.ADMIN)


def unknown_asset(asset_id: str) -> HTTPException:
    return HTTPException(404, f"unknown asset {asset_id!r}")


def _owns(user: User, asset: asyncpg.Record) -> bool:
    # Rows written before owners were users (owner_id NULL) are owned by their owner_email.
    if asset["owner_id"] is not None:
        return bool(asset["owner_id"] == user.id)
    return bool(asset["owner_email"].lower() == user.email.lower())


def may_change(user: User, asset: asyncpg.Record | None, asset_id: str) -> asyncpg.Record:
    """The locked asset row if ``user`` may edit or delete it: else 404 or 403."""
    if asset is None:
        raise unknown_asset(asset_id)
    if user.role is not Role.ADMIN and not _owns(user, asset):
        raise HTTPException(403, "only the asset's owner or an admin may change it")
    return asset


async def _existing_owner(request: Request, email: str) -> int:
    """The id of the active user ``email``, or 422: an owner is never created here."""
    owner = await user_by_email(request.app.state.pool, email.lower())
    if owner is None or not owner.active:
        raise RequestValidationError([{
            "type": "value_error", "loc": ("body", "owner_email"), "input": email,
            "msg": f"{email} is not an active user; an admin adds people first "
                   "(POST /v1/users)"}])
    return owner.id


@router.post("/v1/assets", status_code=201)
async def create_asset(asset: AssetIn, request: Request, _: User = Depends(editor)) -> Any:
    pool = request.app.state.pool
    created = await store.insert_asset(pool, asset, await _existing_owner(request,
                                                                           asset.owner_email))
    if created is None:
        if await store.was_deleted(pool, asset.id):
            raise HTTPException(409, f"asset {asset.id!r} was deleted; ids are never reused")
        raise HTTPException(409, f"asset {asset.id!r} already exists")
    return created


@router.put("/v1/assets/{asset_id}")
async def replace_asset(asset_id: str, asset: AssetIn, request: Request,
                        user: User = Depends(editor)) -> Any:
    """Replace every field (its owner or an admin); a new owner_email only by an admin."""
    if asset.id != asset_id:
        raise HTTPException(422, "the id in the body must match the URL; ids never change")
    pool = request.app.state.pool
    async with store.asset_for_change(pool, asset_id) as (conn, row):
        current = may_change(user, row, asset_id)
        owner_id = current["owner_id"]
        if asset.owner_email.lower() != current["owner_email"].lower():
            if user.role is not Role.ADMIN:
                raise HTTPException(403, "only an admin hands an asset to another owner")
            owner_id = await _existing_owner(request, asset.owner_email)
        await store.update_asset(conn, asset, owner_id)
    return await store.fetch_asset(pool, asset_id)


@router.delete("/v1/assets/{asset_id}", status_code=204)
async def delete_asset(asset_id: str, request: Request,
                       user: User = Depends(editor)) -> Response:
    """Delete (its owner or an admin): gone from every list, page, count and the edge; its
    ratings are withdrawn from every aggregate."""
    async with store.asset_for_change(request.app.state.pool, asset_id) as (conn, row):
        may_change(user, row, asset_id)
        await withdraw_all(conn, asset_id, utcnow())
        await store.mark_deleted(conn, asset_id)
    request.app.state.outbox.nudge()
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
