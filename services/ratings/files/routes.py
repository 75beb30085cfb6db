"""Files of assets: marketing uploads a PDF to an asset, later new versions (1, 2, ...);
the asset's links stay the same and the viewer (ingest) shows the latest.

The body is the file itself (``Content-Type: application/pdf``), up to FILES_MAX_BYTES:
RequestGuards lets this one path past RATINGS_MAX_BODY_BYTES (``body_allowance``) and
still refuses a larger body with 413 before reading it all. Who may upload is checked
before the body is read, and again, on the locked asset row, when the version is written.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
from fastapi import APIRouter, Depends, HTTPException, Query, Request

from shared.files import FileStore
from shared.settings import FileStoreSettings
from shared.web.guards import BodyAllowance

from ..catalog import store as catalog_store
from ..catalog.routes import editor, may_change, unknown_asset
from ..identity.auth import current_user
from ..identity.models import User
from . import store
from .checks import PdfRefused, check_pdf
from .models import FileVersion, FileVersions

__all__ = ["body_allowance", "router"]

router = APIRouter(dependencies=[Depends(current_user)])
_UPLOAD_PATH = r"/v1/assets/[^/]+/files"
_PDF = "application/pdf"


def body_allowance(settings: FileStoreSettings) -> BodyAllowance:
    """What RequestGuards lets an upload's body be."""
    return BodyAllowance("POST", _UPLOAD_PATH, settings.files_max_bytes)


def _too_large(limit: int) -> HTTPException:
    return HTTPException(413, f"body larger than {limit} bytes")


async def _check_may_upload(pool: asyncpg.Pool, user: User, asset_id: str) -> None:
    async with catalog_store.asset_for_change(pool, asset_id) as (_, row):
        may_change(user, row, asset_id)


async def _read_limited(request: Request, limit: int) -> bytes:
    """The body, or 413 as soon as it grows past ``limit`` (RequestGuards already stops
    one that does; this holds wherever the route is mounted)."""
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise _too_large(limit)
    return bytes(body)


# The body is not declared in OpenAPI: schemathesis (test_openapi_fuzz.py) has no
# serializer for application/pdf and would stop; the description says what to send.
@router.post("/v1/assets/{asset_id}/files", status_code=201, responses={
    413: {"description": "Larger than FILES_MAX_BYTES"},
    415: {"description": "Not sent as application/pdf"},
    422: {"description": "Not a PDF that may be served"}})
async def upload_file(
    asset_id: str, request: Request, user: User = Depends(editor),
    # A name, never a path, and nothing that could break a Content-Disposition header.
    filename: str | None = Query(None, min_length=1, max_length=255,
                                 pattern=r'^[^\x00-\x1f\x7f/\\"]+$',
                                 description="The file's name, shown to readers who download"),
) -> dict[str, Any]:
    """A new version of the asset's file (its owner or an admin): the body is the PDF
    itself, sent as ``Content-Type: application/pdf``; answers {version, pages, bytes,
    sha256}. Refused: over FILES_MAX_BYTES (413), not application/pdf (415), not a PDF, or
    encrypted, or carrying JavaScript, launch actions or attached files (422)."""
    settings: FileStoreSettings = request.app.state.settings
    limit = settings.files_max_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    content_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if content_type != _PDF:
        raise HTTPException(415, "send the file itself as the body, with Content-Type "
                                 f"{_PDF}")
    pool = request.app.state.pool
    await _check_may_upload(pool, user, asset_id)
    data = await _read_limited(request, limit)
    try:
        checked = await asyncio.to_thread(check_pdf, data)
    except PdfRefused as refused:
        raise HTTPException(422, str(refused)) from None
    key = store.storage_key(asset_id, checked.sha256)
    files: FileStore = request.app.state.files
    # Stored before the row exists: a reader only ever finds keys whose bytes are there.
    await files.put(key, data, _PDF)
    async with catalog_store.asset_for_change(pool, asset_id) as (conn, row):
        may_change(user, row, asset_id)
        written = await store.insert_version(
            conn, asset_id, key=key, size=checked.bytes, pages=checked.pages,
            sha256=checked.sha256, filename=filename, uploaded_by=user.id)
    return {name: written[name] for name in ("version", "pages", "bytes", "sha256")}


@router.get("/v1/assets/{asset_id}/files")
async def list_files(asset_id: str, request: Request) -> FileVersions:
    """Every version of the asset's file, newest first."""
    pool = request.app.state.pool
    if await catalog_store.fetch_asset(pool, asset_id) is None:
        raise unknown_asset(asset_id)
    versions = await store.list_versions(pool, asset_id)
    return FileVersions(files=[FileVersion(**v) for v in versions])
