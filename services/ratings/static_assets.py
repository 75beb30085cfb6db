"""The scoreboard's and the asset analytics' files under /static/, among them Chart.js.

Pages link to ``/static/NAME?v=HASH`` (``versioned`` adds the hash): such a URL never
changes content, so browsers may keep it for a year. Without the matching hash a file is
sent with ``no-cache`` and an ETag, so an old page still gets the current file. Nothing
here is secret: no sign-in needed. The service worker's scope is /app/, so these files
never enter its cache.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

__all__ = ["STATIC_FILES", "router", "versioned"]

router = APIRouter(include_in_schema=False)

_STATIC = resources.files("services.ratings") / "static"
_NAMES = (
    "board.css",
    "board.js",
    "board-format.js",
    "score-stream.js",
    "asset-analytics.js",
    "vendor-chart.umd.min.js",  # Chart.js 4.6.1, the UMD build, unmodified but its map line
    "vendor-chart.LICENSE.md",
)
_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
}
_FOREVER = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class StaticFile:
    body: bytes
    media_type: str
    version: str

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


def _load(name: str) -> StaticFile:
    body = (_STATIC / name).read_bytes()
    return StaticFile(body, _TYPES[name[name.rfind("."):]], hashlib.sha256(body).hexdigest()[:12])


STATIC_FILES = {name: _load(name) for name in _NAMES}

_LINK = re.compile(r'(/static/([\w.-]+))"')


def versioned(page: str) -> str:
    """Put the content hash on every ``/static/NAME"`` link of an HTML template."""
    return _LINK.sub(lambda m: f'{m.group(1)}?v={STATIC_FILES[m.group(2)].version}"', page)


@router.get("/static/{name}")
async def static_file(name: str, request: Request, v: str | None = None) -> Response:
    file = STATIC_FILES.get(name)
    if file is None:
        raise HTTPException(404, "no such file")
    headers = {
        "ETag": file.etag,
        "Cache-Control": _FOREVER if v == file.version else "no-cache",
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("if-none-match") == file.etag:
        return Response(status_code=304, headers=headers)
    return Response(file.body, media_type=file.media_type, headers=headers)
