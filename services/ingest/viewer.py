"""The hosted viewer (docs/viewer.md): ``/v/{asset_id}`` renders the asset's latest PDF page
by page with the vendored pdf.js, and ``/v/{asset_id}/file`` serves its bytes.

The page's script (static/viewer/viewer.js) sends a ``view`` and per-page dwell slices
through ``POST /v1/events`` like t.js, so they take the same exactly-once pipeline. A share
link to an asset with a file opens here with ``gb_visit`` (share_links.py): the open is the
view, and the page sends none of its own.

The file's row comes from ratings' ``asset_files`` (reads/ratings.py), its bytes from the
file store (shared/files.py). Nothing executable is served: the upload refuses PDFs with
JavaScript, and the file goes out as ``application/pdf`` with ``nosniff``.
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

__all__ = ["router", "viewer_url"]

router = APIRouter()

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
# Same-origin everything: the module script, pdf.js and its worker, the PDF, the beacons.
# pdf.js runs without eval (isEvalSupported: false) and paints canvases only.
_CSP = ("default-src 'none'; script-src 'self'; worker-src 'self'; connect-src 'self'; "
        "style-src 'self'; img-src 'self' data: blob:; font-src 'self' data:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
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


@router.api_route("/v/{asset_id}/file", methods=["GET", "HEAD"])
async def viewer_file(asset_id: str, request: Request) -> Response:
    """The latest PDF's bytes, inline (``?download=1``: as an attachment). The ETag names
    the version, so a new upload is fetched at once and an unchanged one answers 304."""
    row = await _latest(request, asset_id)
    if row is None:
        return Response(status_code=404, headers={"Cache-Control": "no-store"})
    etag = f'"v{row["version"]}-{row["sha256"][:16]}"'
    disposition = "attachment" if request.query_params.get("download") == "1" else "inline"
    headers = {
        "ETag": etag,
        "Cache-Control": "private, no-cache",
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": _disposition(disposition, asset_id, row["filename"]),
        "Content-Security-Policy": "default-src 'none'; frame-ancestors 'self'",
        "Referrer-Policy": "no-referrer",
    }
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    body = await request.app.state.files.get(row["storage_key"])
    if body is None:
        return Response(status_code=404, headers={"Cache-Control": "no-store"})
    return Response(b"" if request.method == "HEAD" else body, media_type="application/pdf",
                    headers={**headers, "Content-Length": str(len(body))})


def _disposition(kind: str, asset_id: str, filename: str | None) -> str:
    """An ASCII fallback name and, when the upload had one, its UTF-8 name (RFC 6266)."""
    name = filename or f"{asset_id}.pdf"
    fallback = _ASCII_NAME.sub("_", name).strip("._") or "document"
    if not fallback.lower().endswith(".pdf"):
        fallback += ".pdf"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _missing(request: Request) -> Response:
    return templates.TemplateResponse(request, "viewer/missing.html", {}, status_code=404,
                                      headers=_PAGE_HEADERS)
