"""Static files with content-hashed URLs and ETags: the one static server of every service.

A service loads its package's ``static/`` tree once, at import, mounts it and hands it to
its templates::

    STATIC = HashedStaticFiles.from_package("services.ratings.web")  # <package>/static/**
    templates = make_templates("services.ratings.web", STATIC)       # shared.web.templating
    app.mount("/static", STATIC)                                     # in main.py

In a template, ``{{ static_url('board/board.js') }}`` is ``/static/board/board.js?v=HASH``,
HASH the first 12 hex digits of the file's SHA-256. Such a URL never changes content, so a
request carrying the current hash is sent ``public, max-age=31536000, immutable``. Any other
request (no ``v``, or an old page's old hash) gets the current file with ``no-cache`` and an
ETag (the same hash), so browsers revalidate it with a cheap 304.

A file that must stay at a fixed path (ingest's ``/t.js``, pasted into customers' pages; the
PWA's ``/app/manifest.webmanifest``) is answered from a route, with the same ETags::

    SCRIPTS = HashedStaticFiles.from_package("services.ingest",
                                             cache_control="public, max-age=3600")

    @router.get("/t.js")
    async def tracker_script(request: Request) -> Response:
        return SCRIPTS.response(request, "t.js")

``cache_control`` replaces ``no-cache`` for the unhashed requests. A body made at start-up
(a rendered page, a service worker with its version filled in) is served the same way with
``respond(request, StaticFile.of("sw.js", body))``. Nothing served here needs a sign-in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

__all__ = ["FOREVER", "MEDIA_TYPES", "NO_CACHE", "HashedStaticFiles", "StaticFile", "respond"]

FOREVER = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"
MEDIA_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".png": "image/png",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
}


@dataclass(frozen=True)
class StaticFile:
    body: bytes
    media_type: str
    version: str  # the first 12 hex digits of the body's SHA-256

    @classmethod
    def of(cls, name: str, body: bytes) -> StaticFile:
        """The file ``name`` (its suffix gives the media type) with this body."""
        suffix = name[name.rfind("."):] if "." in name else ""
        media_type = MEDIA_TYPES.get(suffix, "application/octet-stream")
        return cls(body, media_type, hashlib.sha256(body).hexdigest()[:12])

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


def _fresh(if_none_match: str | None, etag: str) -> bool:
    """Whether the browser's copy is this one (RFC 9110: a list, weak tags compare too)."""
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in tags or "*" in tags


def respond(
    request: Request,
    file: StaticFile,
    *,
    immutable: bool = False,
    cache_control: str = NO_CACHE,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The file, or 304 when the request's If-None-Match already names it."""
    sent = {
        "ETag": file.etag,
        "Cache-Control": FOREVER if immutable else cache_control,
        "X-Content-Type-Options": "nosniff",
        **(headers or {}),
    }
    if _fresh(request.headers.get("if-none-match"), file.etag):
        return Response(status_code=304, headers=sent)
    return Response(file.body, media_type=file.media_type, headers=sent)


def _walk(folder: Traversable, prefix: str = "") -> Iterator[tuple[str, bytes]]:
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.startswith((".", "__")):
            continue
        if entry.is_dir():
            yield from _walk(entry, f"{prefix}{entry.name}/")
        else:
            yield f"{prefix}{entry.name}", entry.read_bytes()


class HashedStaticFiles:
    """An ASGI app serving a fixed set of files from memory, named relative to their root.

    Every file is read and hashed once, at start-up: a deploy changes them, nothing else
    does, and the templates need every hash before the first page anyway.
    """

    def __init__(
        self,
        files: Mapping[str, StaticFile],
        *,
        prefix: str = "/static",
        cache_control: str = NO_CACHE,
    ) -> None:
        self.files = dict(files)
        self.prefix = prefix.rstrip("/")
        self.cache_control = cache_control

    @classmethod
    def from_package(
        cls,
        package: str,
        folder: str = "static",
        *,
        prefix: str = "/static",
        cache_control: str = NO_CACHE,
    ) -> HashedStaticFiles:
        """Every file below ``<package>/<folder>/``, also from a wheel's installed copy."""
        root = resources.files(package) / folder
        files = {name: StaticFile.of(name, body) for name, body in _walk(root)}
        return cls(files, prefix=prefix, cache_control=cache_control)

    def __getitem__(self, name: str) -> StaticFile:
        return self.files[name]

    def __contains__(self, name: object) -> bool:
        return name in self.files

    def url(self, name: str) -> str:
        """The file's URL with its content hash; KeyError for a file that does not exist,
        so a template with a mistyped name fails at once instead of linking a 404."""
        return f"{self.prefix}/{name}?v={self.files[name].version}"

    def response(
        self, request: Request, name: str, headers: Mapping[str, str] | None = None
    ) -> Response:
        """The answer to a GET of ``name``: immutable only under its current hash."""
        file = self.files.get(name)
        if file is None:
            return JSONResponse({"detail": "no such file"}, status_code=404)
        immutable = request.query_params.get("v") == file.version
        return respond(request, file, immutable=immutable, cache_control=self.cache_control,
                       headers=headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        request = Request(scope, receive)
        if request.method not in ("GET", "HEAD"):
            answer: Response = Response(status_code=405, headers={"Allow": "GET, HEAD"})
        else:
            # Under a Mount, root_path ends with the mount's path: what follows is the name.
            path, root = scope["path"], scope.get("root_path", "")
            name = path[len(root):] if path.startswith(root) else path
            answer = self.response(request, name.lstrip("/"))
        await answer(scope, receive, send)

