"""What every request passes before any route, authentication or parsing sees it: a body
size limit, an Origin check on cookie-authenticated state changes (CSRF), and no NUL.

One pure ASGI middleware, so it also sees a chunked body as it streams and can refuse it
half-way (BaseHTTPMiddleware would buffer or hide the stream)::

    app.add_middleware(RequestGuards, max_body_bytes=65_536,
                       trusted_origins=["https://glassboard.example.com"])

- **413** when ``Content-Length`` says the body is over ``max_body_bytes``, at once and
  unread; or when a chunked body grows past it, as soon as it does. The body is otherwise
  read here once and handed on, so the app never reads more than the limit. A
  ``BodyAllowance`` gives one method and path (a file upload) its own limit, optionally
  per media type; a body on that path is binary, so it is not searched for NUL (the route
  checks what it is, and refuses a type it does not take with 415).
- **403** for a POST, PUT, PATCH or DELETE that a browser could have sent from another
  site: one without ``Authorization: Bearer`` (a page cannot add that header cross-site
  without a CORS preflight, which these apps never allow) whose ``Origin`` (else
  ``Referer``) is neither a trusted origin nor the request's own (its scheme and ``Host``).
  Such a request carrying cookies but neither header is refused too. SameSite=Lax is not
  enough: another port of the same host (ingest) is the same *site*, and sends the cookie.
- **422** for a NUL character (or, in a JSON string, a lone surrogate) anywhere in the path,
  the query or the body: PostgreSQL text cannot hold either, and would answer with a 500.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["STATE_CHANGING", "BodyAllowance", "RequestGuards", "origin_of"]

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
#: A JSON escape of NUL or of a UTF-16 surrogate: only then is the body parsed to look.
_SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89abAB][0-9a-fA-F]{2})")


def origin_of(url: str | None) -> str | None:
    """``scheme://host[:port]`` of ``url``, lower case, default port dropped; None when
    ``url`` has none (absent, ``null``, relative, unreadable)."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}" + (f":{port}" if port and port != _DEFAULT_PORTS[scheme] else "")


@dataclass(frozen=True)
class BodyAllowance:
    """A binary body of up to ``max_bytes`` for ``method`` on paths ``path`` (a regular
    expression) fully matches, instead of ``max_body_bytes``; with ``content_type``, only
    for bodies sent as that media type, so each kind of upload is cut at its own limit."""

    method: str
    path: str
    max_bytes: int
    content_type: str | None = None

    def on_path(self, scope: Scope) -> bool:
        """The body on this method and path is binary whatever its type: a route that
        refuses the type says so (415) instead of the NUL check answering for it."""
        return scope["method"] == self.method and re.fullmatch(self.path, scope["path"]) is not None

    def allows(self, scope: Scope, headers: Headers) -> bool:
        if not self.on_path(scope):
            return False
        if self.content_type is None:
            return True
        media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        return media_type == self.content_type


class RequestGuards:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int,
                 trusted_origins: Iterable[str] = (), check_origin: bool = True,
                 refuse_nul: bool = True, allowances: Iterable[BodyAllowance] = ()) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.allowances = tuple(allowances)
        self.trusted_origins = frozenset(o for o in map(origin_of, trusted_origins) if o)
        self.check_origin = check_origin
        self.refuse_nul = refuse_nul

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        allowance = next((a for a in self.allowances if a.allows(scope, headers)), None)
        limit = allowance.max_bytes if allowance else self.max_body_bytes
        refusal = self._refusal(scope, headers, limit)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        if not _has_body(headers):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive, limit)
        if body is None:  # the client went away mid-body: nobody to answer
            return
        if len(body) > limit:
            await _too_large(limit)(scope, receive, send)
            return
        binary = any(a.on_path(scope) for a in self.allowances)
        if (self.refuse_nul and not binary
                and _body_has_bad_text(body, headers.get("content-type", ""))):
            await _nul_refused("the body")(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    def _refusal(self, scope: Scope, headers: Headers, limit: int) -> JSONResponse | None:
        """What the headers alone refuse, before a byte of the body is read."""
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return _too_large(limit)
        if self.check_origin and (reason := self._cross_site(scope, headers)):
            return JSONResponse({"detail": reason}, status_code=403)
        if self.refuse_nul:
            if "\x00" in scope["path"]:
                return _nul_refused("the path")
            if b"\x00" in unquote_to_bytes(scope.get("query_string", b"")):
                return _nul_refused("the query")
        return None

    def _cross_site(self, scope: Scope, headers: Headers) -> str | None:
        if scope["method"] not in STATE_CHANGING:
            return None
        if headers.get("authorization", "")[:7].lower() == "bearer ":
            return None
        raw = headers.get("origin") or headers.get("referer")
        if raw is None:
            if "cookie" in headers:
                return ("a cookie-authenticated change needs an Origin or Referer header "
                        "(browsers send one); integrations send an API token instead")
            return None
        source = origin_of(raw)
        if source is not None and (source in self.trusted_origins
                                   or source == _own_origin(scope, headers)):
            return None
        return f"refused a change requested by another site ({source or raw[:100]})"



def _too_large(limit: int) -> JSONResponse:
    return JSONResponse({"detail": f"body larger than {limit} bytes"}, status_code=413)


def _own_origin(scope: Scope, headers: Headers) -> str | None:
    """The origin this request was addressed to, as the browser saw it (behind a proxy,
    the trusted origins name the public one)."""
    host = headers.get("host")
    return origin_of(f"{scope.get('scheme', 'http')}://{host}") if host else None


def _has_body(headers: Headers) -> bool:
    return "transfer-encoding" in headers or headers.get("content-length", "0") not in ("", "0")


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or its first ``limit + 1`` bytes once it grows past ``limit``."""
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body.extend(message.get("body", b""))
        if len(body) > limit:
            return bytes(body[:limit + 1])
        if not message.get("more_body", False):
            return bytes(body)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The app's ``receive``: the body read here first, then the client's own messages
    (a stream's disconnect, say)."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed


def _body_has_bad_text(body: bytes, content_type: str) -> bool:
    if b"\x00" in body:
        return True
    if content_type.lower().startswith("application/x-www-form-urlencoded"):
        return b"\x00" in unquote_to_bytes(body.replace(b"+", b" "))
    if not _SUSPECT_ESCAPE.search(body):
        return False
    try:
        return _has_bad_string(json.loads(body))
    except (ValueError, RecursionError):
        return False  # not JSON: the route refuses it itself


def _has_bad_string(value: Any) -> bool:
    """Any string (key or value) in a parsed JSON document with NUL or a lone surrogate."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and ("\x00" in item
                                         or (not item.isascii() and not _encodable(item))):
            return True
    return False


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _nul_refused(where: str) -> JSONResponse:
    return JSONResponse(
        {"detail": f"{where} contains a NUL character or a lone surrogate; text cannot hold "
                   "either"}, status_code=422)
