"""The alert inbox page, ``/alerts``, and its two files (alerts.js, alerts.css).

A server-rendered shell; alerts.js reads ``/v1/alerts`` and the preference and rule APIs.
The files are linked with their content hash (``?v=``), so they may be cached for a year.
"""

from __future__ import annotations

import hashlib
import html
from importlib import resources

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from .pages import fill, html_page, login_redirect, session_user
from .users import Role

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_STATIC = resources.files("services.ratings") / "static"
_FILES = {
    "alerts.js": ((_STATIC / "alerts.js").read_bytes(), "text/javascript; charset=utf-8"),
    "alerts.css": ((_STATIC / "alerts.css").read_bytes(), "text/css; charset=utf-8"),
}
_VERSIONS = {name: hashlib.sha256(body).hexdigest()[:12] for name, (body, _) in _FILES.items()}
_PAGE = (_STATIC / "alerts.html").read_text()
_ADMIN_TAB = ('<button type="button" role="tab" id="tab-everyone" aria-selected="false" '
              'data-view="everyone">Everyone</button>')


@router.get("/alerts")
async def alerts_page(request: Request) -> Response:
    user = await session_user(request)
    if user is None:
        return login_redirect(request)
    admin = user.role is Role.ADMIN
    return html_page(fill(
        _PAGE, email=html.escape(user.email, quote=True), admin="true" if admin else "false",
        admin_tab=_ADMIN_TAB if admin else "", js_version=_VERSIONS["alerts.js"],
        css_version=_VERSIONS["alerts.css"],
    ))


@router.get("/alerts/{name}")
async def alerts_file(name: str, request: Request, v: str | None = None) -> Response:
    if name not in _FILES:
        raise HTTPException(404, "no such file")
    body, media_type = _FILES[name]
    etag = f'"{_VERSIONS[name]}"'
    headers = {
        "ETag": etag, "X-Content-Type-Options": "nosniff",
        "Cache-Control": ("public, max-age=31536000, immutable" if v == _VERSIONS[name]
                          else "no-cache"),
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)
