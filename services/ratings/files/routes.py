"""Files of assets: marketing uploads a PDF or an MP4 video to an asset, later new versions
(1, 2, ...), each of either kind; the asset's links stay the same and the viewer (ingest)
shows the latest.

The body is the file itself (``Content-Type: application/pdf`` up to FILES_MAX_BYTES, or
``video/mp4`` up to FILES_MAX_VIDEO_BYTES): RequestGuards lets this one path past
RATINGS_MAX_BODY_BYTES up to its media type's limit (``body_allowances``) and refuses a
larger body with 413 before reading it all; any other media type keeps the small default
and is refused here with 415. Who may upload is checked before the body is read, and
again, on the locked asset row, when the version is written.
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
from .checks import CheckedPdf, CheckedVideo, FileRefused, check_mp4, check_pdf
from .models import FileVersion, FileVersions

__all__ = ["body_allowances", "router"]

router = APIRouter(dependencies=[Depends(current_user)])
_UPLOAD_PATH = r"/v1/assets/[^/]+/files"
_PDF, _MP4 = "application/pdf", "video/mp4"
_ANSWER = ("version", "content_type", "pages", "duration_ms", "bytes", "sha256")


def body_allowances(settings: FileStoreSettings) -> list[BodyAllowance]:
    """What RequestGuards lets an upload's body be: each kind cut at its own limit while it
    is read; any other media type keeps the small default and gets its 415 from here."""
    return [BodyAllowance("POST", _UPLOAD_PATH, settings.files_max_bytes, _PDF),
            BodyAllowance("POST", _UPLOAD_PATH, settings.files_max_video_bytes, _MP4)]


def _limit(settings: FileStoreSettings, content_type: str) -> int:
    return settings.files_max_video_bytes if content_type == _MP4 else settings.files_max_bytes


def _check(content_type: str, data: bytes) -> CheckedPdf | CheckedVideo:
    return check_mp4(data) if content_type == _MP4 else check_pdf(data)


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
# serializer for application/pdf or video/mp4 and would stop; the description says what
# to send.
@router.post("/v1/assets/{asset_id}/files", status_code=201, responses={
    413: {"description": "Larger than FILES_MAX_BYTES (a PDF) or FILES_MAX_VIDEO_BYTES "
                         "(an MP4)"},
    415: {"description": "Not sent as application/pdf or video/mp4"},
    422: {"description": "Not a PDF that may be served, or not an MP4 of known length"}})
async def upload_file(
    asset_id: str, request: Request, user: User = Depends(editor),
    # A name, never a path, and nothing that could break a Content-Disposition header.
    filename: str | None = Query(None, min_length=1, max_length=255,
                                 pattern=r'^[^\x00-\x1f\x7f/\\"]+$',
                                 description="The file's name, shown to readers who download"),
) -> dict[str, Any]:
    """A new version of the asset's file (its owner or an admin): the body is the file
    itself, a PDF sent as ``Content-Type: application/pdf`` or an MP4 video sent as
    ``video/mp4``; answers {version, content_type, pages, duration_ms, bytes, sha256}
    (pages null for a video, duration_ms null for a PDF). Refused: over FILES_MAX_BYTES
    for a PDF or FILES_MAX_VIDEO_BYTES for a video (413), another content type (415); a
    PDF that is not one, or is encrypted, or carries JavaScript, launch actions or
    attached files, or an MP4 that is not one or whose length is unknown, 0 or over 24 h
    (422)."""
    settings: FileStoreSettings = request.app.state.settings
    content_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if content_type not in (_PDF, _MP4):
        raise HTTPException(415, "send the file itself as the body, with Content-Type "
                                 f"{_PDF} or {_MP4}")
    limit = _limit(settings, content_type)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    pool = request.app.state.pool
    await _check_may_upload(pool, user, asset_id)
    data = await _read_limited(request, limit)
    try:
        checked = await asyncio.to_thread(_check, content_type, data)
    except FileRefused as refused:
        raise HTTPException(422, str(refused)) from None
    key = store.storage_key(asset_id, checked.sha256, content_type)
    files: FileStore = request.app.state.files
    # Stored before the row exists: a reader only ever finds keys whose bytes are there.
    await files.put(key, data, content_type)
    async with catalog_store.asset_for_change(pool, asset_id) as (conn, row):
        may_change(user, row, asset_id)
        written = await store.insert_version(
            conn, asset_id, key=key, content_type=content_type, size=checked.bytes,
            pages=checked.pages if isinstance(checked, CheckedPdf) else None,
            duration_ms=checked.duration_ms if isinstance(checked, CheckedVideo) else None,
            sha256=checked.sha256, filename=filename, uploaded_by=user.id)
    return {name: written[name] for name in _ANSWER}


@router.get("/v1/assets/{asset_id}/files")
async def list_files(asset_id: str, request: Request) -> FileVersions:
    """Every version of the asset's file, newest first."""
    pool = request.app.state.pool
    if await catalog_store.fetch_asset(pool, asset_id) is None:
        raise unknown_asset(asset_id)
    versions = await store.list_versions(pool, asset_id)
    return FileVersions(files=[FileVersion(**v) for v in versions])
