"""The hosted viewer (docs/viewer.md): ``/v/{asset_id}`` renders the asset's latest file, a
PDF page by page with the vendored pdf.js or an MP4 in the browser's own video player, and
``/v/{asset_id}/file`` serves its bytes, whole or in a byte range (a player asks for
ranges to start quickly and to seek).

The PDF page's script (static/viewer/viewer.js) sends a ``view`` and per-page dwell slices
through ``POST /v1/events`` like t.js, so they take the same exactly-once pipeline; the
video page loads t.js itself, which tracks the video's plays and watch time. A share link
to an asset with a file opens here with ``gb_visit`` (share_links.py): the open is the
view, and the page sends none of its own.

The file's row comes from ratings' ``asset_files`` (reads/ratings.py), its bytes from the
file store (shared/files.py). Nothing executable is served: the upload refuses PDFs with
JavaScript and anything that is not an MP4, and the file goes out as ``application/pdf``
or ``video/mp4`` with ``nosniff``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import asyncpg
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from shared.events import ASSET_ID_PATTERN

from .reads.ratings import latest_file
from .web import STATIC, templates

__all__ = ["Unsatisfiable", "byte_range", "router", "viewer_url"]

router = APIRouter()

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
# Same-origin everything: the module script (or t.js), pdf.js and its worker, the PDF or
# the video, the beacons. pdf.js runs without eval (isEvalSupported: false) and paints
# canvases only.
_CSP = ("default-src 'none'; script-src 'self'; worker-src 'self'; connect-src 'self'; "
        "style-src 'self'; img-src 'self' data: blob:; font-src 'self' data:; "
        "media-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
_PAGE_HEADERS = {
    "Cache-Control": "no-store, max-age=0",
    # gb_visit names the open: it must not leave as a Referer.
    "Referrer-Policy": "same-origin",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": _CSP,
}
_ASCII_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_ASSET_ID = re.compile(ASSET_ID_PATTERN)
_VIDEO = "video/mp4"
_EXTENSIONS = {"application/pdf": ".pdf", _VIDEO: ".mp4"}
#: One range of the Range header (RFC 9110, 14.1.2): ``first-last``, ``first-`` or
#: ``-suffix``.
_ONE_RANGE = re.compile(r"bytes=(?:(\d{1,19})-(\d{0,19})|-(\d{1,19}))")


class Unsatisfiable(Exception):
    """A Range no byte of the file is in: 416."""


async def _latest(request: Request, asset_id: str) -> asyncpg.Record | None:
    """The asset's latest file; None for an id no asset can have (never sent to SQL)."""
    if not _ASSET_ID.match(asset_id):
        return None
    return await latest_file(request.app.state.pool, asset_id)


def viewer_url(request: Request, asset_id: str) -> str | None:
    """Where a share link to this asset goes: the viewer when it has a file (as of the
    catalog's last refresh: no database round trip on an open), else None."""
    return f"/v/{asset_id}" if request.app.state.catalog.has_file(asset_id) else None


@router.get("/v/{asset_id}", response_class=HTMLResponse)
async def viewer(asset_id: str, request: Request) -> Response:
    """The viewer page; 404 when the asset is unknown, deleted or has no file."""
    row = await _latest(request, asset_id)
    if row is None:
        return _missing(request)
    if row["content_type"] == _VIDEO:
        return _video_page(request, row)
    visit = request.query_params.get("gb_visit", "")
    context: dict[str, Any] = {
        "asset_id": asset_id,
        "title": row["title"],
        "pages": row["pages"],
        "version": row["version"],
        "file_url": f"/v/{asset_id}/file?v={row['version']}",
        "visit": visit.lower() if _UUID.match(visit) else "",
        "pdfjs": STATIC.url("vendor/pdfjs/pdf.min.js"),
        "worker": STATIC.url("vendor/pdfjs/pdf.worker.min.js"),
    }
    return templates.TemplateResponse(request, "viewer/page.html", context,
                                      headers=_PAGE_HEADERS)


def _video_page(request: Request, row: asyncpg.Record) -> Response:
    """The video in the browser's player; t.js (from this origin, which the CSP allows)
    reads gb_visit from the address itself and tracks the view, the plays and the
    download link."""
    context = {
        "asset_id": row["asset_id"],
        "title": row["title"],
        "duration_ms": row["duration_ms"],
        "file_url": f"/v/{row['asset_id']}/file?v={row['version']}",
    }
    return templates.TemplateResponse(request, "viewer/video.html", context,
                                      headers=_PAGE_HEADERS)


@router.api_route("/v/{asset_id}/file", methods=["GET", "HEAD"])
async def viewer_file(asset_id: str, request: Request) -> Response:
    """The latest file's bytes, inline (``?download=1``: as an attachment). The ETag names
    the version, so a new upload is fetched at once and an unchanged one answers 304. A GET
    with one byte range (``Range: bytes=...``) answers 206 with that part, or 416 when no
    byte of the file is in it; several ranges, or an If-Range that is not the current
    ETag, answer the whole file."""
    row = await _latest(request, asset_id)
    if row is None:
        return Response(status_code=404, headers={"Cache-Control": "no-store"})
    etag = f'"v{row["version"]}-{row["sha256"][:16]}"'
    disposition = "attachment" if request.query_params.get("download") == "1" else "inline"
    headers = {
        "ETag": etag,
        "Cache-Control": "private, no-cache",
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": _disposition(disposition, asset_id, row["filename"],
                                            _EXTENSIONS.get(row["content_type"], ".pdf")),
        "Content-Security-Policy": "default-src 'none'; frame-ancestors 'self'",
        "Referrer-Policy": "no-referrer",
        "Accept-Ranges": "bytes",
    }
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    body = await request.app.state.files.get(row["storage_key"])
    if body is None:
        return Response(status_code=404, headers={"Cache-Control": "no-store"})
    media_type = row["content_type"]
    # Range is defined for GET only (RFC 9110, 14.2): a HEAD describes the whole file.
    wanted = request.headers.get("range") if request.method == "GET" else None
    if wanted and request.headers.get("if-range", etag) != etag:
        wanted = None  # the client's part is of another version: start again, whole
    try:
        part = byte_range(wanted, len(body))
    except Unsatisfiable:
        return Response(status_code=416, headers={**headers,
                                                  "Content-Range": f"bytes */{len(body)}"})
    if part is not None:
        first, last = part
        return Response(body[first:last + 1], status_code=206, media_type=media_type,
                        headers={**headers, "Content-Range": f"bytes {first}-{last}/{len(body)}"})
    return Response(b"" if request.method == "HEAD" else body, media_type=media_type,
                    headers={**headers, "Content-Length": str(len(body))})


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The first and last byte (inclusive) one range of ``header`` asks for of a file of
    ``size`` bytes; None to answer the whole file (no header, another unit, several ranges
    or one that does not parse, which RFC 9110 says to ignore); Unsatisfiable when it
    names no byte of the file."""
    if not header:
        return None
    found = _ONE_RANGE.fullmatch(header.replace(" ", "").lower())
    if found is None:
        return None
    first, last, suffix = found.groups()
    if suffix is not None:
        if int(suffix) == 0 or size == 0:
            raise Unsatisfiable
        return max(0, size - int(suffix)), size - 1
    if last and int(last) < int(first):
        return None
    if int(first) >= size:
        raise Unsatisfiable
    return int(first), (min(int(last), size - 1) if last else size - 1)


def _disposition(kind: str, asset_id: str, filename: str | None, extension: str) -> str:
    """An ASCII fallback name and, when the upload had one, its UTF-8 name (RFC 6266)."""
    name = filename or f"{asset_id}{extension}"
    fallback = _ASCII_NAME.sub("_", name).strip("._") or "document"
    if not fallback.lower().endswith(extension):
        fallback += extension
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _missing(request: Request) -> Response:
    return templates.TemplateResponse(request, "viewer/missing.html", {}, status_code=404,
                                      headers=_PAGE_HEADERS)
