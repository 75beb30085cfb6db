"""The pages people open in a browser: the mobile rating app (a PWA under /app/), its
sign-in page (/login) and one page per asset with its analytics and embed code
(/assets/{id}). The scoreboard's pages are in pages_board.py.

The app is plain HTML, CSS and JavaScript from ``static/`` (flat, so the package data
glob ``static/*`` ships it). Nothing comes from a CDN. The service worker lives at
/app/sw.js and controls /app/; its cache name carries a hash of every app file, so a
changed file reaches phones on their next visit.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import quote, urlencode

import asyncpg
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from . import detail_repo, repo
from .auth import optional_user
from .catalog import ASSET_TYPES, STAGES
from .static_assets import versioned
from .users import User

__all__ = [
    "APP_FILES",
    "fill",
    "html_page",
    "label",
    "login_redirect",
    "options_html",
    "router",
    "session_user",
]

router = APIRouter(include_in_schema=False)

_STATIC = resources.files("services.ratings") / "static"

#: Security headers of every HTML page here: scripts and styles only from this origin.
_HTML_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; manifest-src 'self'; worker-src 'self'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-cache",
    "Vary": "Cookie",
}

_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".webmanifest": "application/manifest+json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}


def label(slug: str) -> str:
    """``product_sheet`` → ``Product sheet``."""
    return slug.replace("_", " ").capitalize()


def _read(name: str) -> bytes:
    return (_STATIC / name).read_bytes()


def fill(template: str, **values: str) -> str:
    """Put each ``{{name}}`` in one pass, so a value can never fill another one."""
    return re.sub(r"\{\{(\w+)\}\}", lambda m: values[m.group(1)], template)


def options_html(values: tuple[str, ...]) -> str:
    return "".join(f'<option value="{v}">{html.escape(label(v))}</option>' for v in values)


@dataclass(frozen=True)
class _File:
    body: bytes
    media_type: str
    etag: str


def _app_files() -> dict[str, _File]:
    """Every file under /app/, rendered once; sw.js gets the hash of all the others."""
    shell = fill(_read("app.html").decode(), type_options=options_html(ASSET_TYPES),
                 stage_options=options_html(STAGES)).encode()
    bodies: dict[str, bytes] = {"shell.html": shell}
    for name in ("app.css", "app.js", "queue.js", "stars.js", "asset.js", "login.js",
                 "manifest.webmanifest", "icon.svg", "icon-192.png", "icon-512.png",
                 "icon-maskable-512.png", "apple-touch-icon.png"):
        bodies[name] = _read(name)
    digest = hashlib.sha256()
    for name in sorted(bodies):
        digest.update(name.encode() + b"\0" + bodies[name])
    version = digest.hexdigest()[:12]
    bodies["sw.js"] = _read("sw.js").replace(b"__VERSION__", version.encode())
    files = {}
    for name, body in bodies.items():
        suffix = name[name.rfind("."):]
        files[name] = _File(body, _TYPES[suffix], f'"{hashlib.sha256(body).hexdigest()[:16]}"')
    return files


APP_FILES = _app_files()
_LOGIN_HTML = _read("login.html").decode()
_ASSET_HTML = versioned(_read("asset.html").decode())
_ANALYTICS_HTML = _read("asset-analytics.html").decode()


def _safe_next(value: str | None, default: str = "/app/") -> str:
    if value and value.startswith("/") and not value.startswith(("//", "/\\")):
        return value
    return default


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)


async def session_user(request: Request) -> User | None:
    """The signed-in person, or None (also for a bad API token: pages use sessions)."""
    try:
        return await optional_user(request)
    except HTTPException:
        return None


def html_page(body: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status_code, headers=_HTML_HEADERS)


def _serve(name: str, request: Request) -> Response:
    file = APP_FILES[name]
    headers = {"ETag": file.etag, "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    if name == "sw.js":
        headers["Service-Worker-Allowed"] = "/app/"
    if request.headers.get("if-none-match") == file.etag:
        return Response(status_code=304, headers=headers)
    return Response(file.body, media_type=file.media_type, headers=headers)


# --- sign-in -----------------------------------------------------------------------------

@router.get("/login")
async def login_page(request: Request, next: str | None = None) -> Response:
    target = _safe_next(next)
    if await session_user(request) is not None:
        return RedirectResponse(target, status_code=303)
    settings = getattr(request.app.state, "settings", None)
    production = settings is not None and settings.env == "production"
    smtp = settings is not None and bool(settings.smtp_host)
    hint = "" if production else (
        '<p class="hint" id="dev-hint">Development: the email is printed in the console '
        f"{'by the local mail sink' if smtp else 'of the ratings service'}.</p>"
    )
    return html_page(fill(_LOGIN_HTML, next=html.escape(target, quote=True), dev_hint=hint))


# --- the app -----------------------------------------------------------------------------

@router.get("/app")
async def app_without_slash() -> RedirectResponse:
    return RedirectResponse("/app/", status_code=308)


@router.get("/app/")
async def app_shell(request: Request) -> Response:
    if await session_user(request) is None:
        return login_redirect(request)
    return HTMLResponse(APP_FILES["shell.html"].body, headers=_HTML_HEADERS)


@router.get("/app/{name}")
async def app_file(name: str, request: Request) -> Response:
    if name not in APP_FILES:
        raise HTTPException(404, "no such file")
    response = _serve(name, request)
    if name == "shell.html":
        response.headers.update(_HTML_HEADERS)
    return response


# --- one asset ---------------------------------------------------------------------------

def _stars_widget(asset: dict[str, Any], user: User) -> str:
    title = html.escape(asset["title"])
    if asset["owner_id"] == user.id:
        return ('<p class="owner-note">This is your asset. Owners cannot rate their own '
                "assets, so that ratings stay candid.</p>")
    mine = asset["my_stars"]
    buttons = "".join(
        f'<button type="button" class="star" data-stars="{n}" '
        f'aria-label="Rate {n} out of 5" aria-pressed="{"true" if mine == n else "false"}">'
        '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><use href="#star"/></svg>'
        "</button>"
        for n in range(1, 6)
    )
    comment = asset.get("my_comment") or ""
    status = f"Your rating: {mine} of 5" if mine else "Not rated yet"
    return (
        f'<div class="rater" data-asset="{html.escape(asset["id"], quote=True)}" '
        f'data-title="{title}" data-stars="{mine or 0}" '
        f'data-comment="{html.escape(comment, quote=True)}">'
        '<div class="rate-row">'
        f'<div class="stars" role="group" aria-label="Your rating for {title}">{buttons}</div>'
        f'<button type="button" class="why-button" aria-expanded="false"{"" if mine else " hidden"}>'
        "Why?</button></div>"
        f'<p class="rate-status">{status}</p>'
        f'<p class="my-comment"{"" if comment else " hidden"}>{html.escape(comment)}</p>'
        '<form class="why" hidden><label class="why-label"></label>'
        '<textarea rows="3" maxlength="2000" '
        'placeholder="Optional: what made it useful or not?"></textarea>'
        '<div class="why-actions"><button type="submit" class="button small">Save why</button>'
        '<button type="button" class="button small secondary why-cancel">Cancel</button>'
        "</div></form></div>"
    )


def _snippet(key: str, heading: str, explain: str, code: str) -> str:
    return (
        f'<section class="snippet" aria-labelledby="h-{key}">'
        f'<div class="snippet-head"><h3 id="h-{key}">{heading}</h3>'
        f'<button type="button" class="copy" data-copy="code-{key}" '
        f'aria-label="Copy the {heading.lower()}">Copy</button></div>'
        f'<p class="snippet-explain">{explain}</p>'
        f'<pre><code id="code-{key}">{html.escape(code)}</code></pre></section>'
    )


async def _analytics(pool: asyncpg.Pool, asset: dict[str, Any]) -> str:
    """The analytics section (asset-analytics.js fills it), with the latest score state
    inlined so the score shows at once and the live stream resumes from its revision."""
    state = await detail_repo.fetch_score_state(pool, asset["id"])
    # Inside <script type="application/json"> only "<" could end the element early.
    inline = json.dumps(state).replace("<", "\\u003c")
    return fill(_ANALYTICS_HTML, asset_id=html.escape(asset["id"], quote=True),
                asset_type=html.escape(asset["type"], quote=True), state=inline)


@router.get("/assets/{asset_id}")
async def asset_page(asset_id: str, request: Request) -> Response:
    user = await session_user(request)
    if user is None:
        return login_redirect(request)
    pool = request.app.state.pool
    asset = await repo.fetch_asset(pool, asset_id, user.id)
    if asset is None:
        content = ('<h1 class="page-title">Asset not found</h1>'
                   f"<p>There is no asset with the id “{html.escape(asset_id)}”.</p>")
        return html_page(fill(_ASSET_HTML, title="Asset not found", uid=str(user.id),
                              content=content), status_code=404)
    await repo.record_view(pool, user.id, asset_id)

    ingest = request.app.state.settings.ingest_base_url.rstrip("/")
    slug = quote(asset["id"], safe="")
    snippets = "".join([
        _snippet("script", "Page script",
                 "For web pages: views, readers, engaged time and devices.",
                 f'<script async src="{ingest}/t.js" data-asset="{asset["id"]}"></script>'),
        _snippet("pixel", "Email pixel",
                 "For emails and anywhere scripts do not run: views and devices.",
                 f'<img src="{ingest}/px.gif?asset={slug}" width="1" height="1" alt="">'),
        _snippet("download", "Download link",
                 "For files: counts the download, then sends the reader to the file.",
                 f"{ingest}/d/{slug}"),
    ])
    tags = "".join(f'<li class="tag">#{html.escape(t)}</li>' for t in asset["tags"] or [])
    stage = html.escape(label(asset["stage"])) if asset["stage"] else "—"
    content = f"""
<p class="kicker"><span class="badge type-{html.escape(asset['type'])}">{html.escape(label(asset['type']))}</span></p>
<h1 class="page-title">{html.escape(asset['title'])}</h1>
<div class="asset-layout">
<div class="asset-side">
<dl class="facts">
  <div><dt>Stage</dt><dd>{stage}</dd></div>
  <div><dt>Tags</dt><dd>{f'<ul class="tags">{tags}</ul>' if tags else '—'}</dd></div>
  <div class="wide"><dt>Owner</dt><dd>{html.escape(asset['owner_email'])}</dd></div>
  <div class="wide"><dt>Id</dt><dd><code>{html.escape(asset['id'])}</code></dd></div>
</dl>
<p><a class="button secondary" href="{html.escape(str(asset['url']), quote=True)}" rel="noopener noreferrer" target="_blank">Open the asset</a></p>
<section class="card" aria-labelledby="h-rating">
  <h2 id="h-rating">My rating</h2>
  {_stars_widget(asset, user)}
</section>
</div>
{await _analytics(pool, asset)}
<section class="card asset-embed" aria-labelledby="h-embed">
  <h2 id="h-embed">Embed code</h2>
  <p class="muted">Use one per place the asset appears: the script <em>or</em> the pixel on a page, not both.</p>
  {snippets}
</section>
</div>
"""
    return html_page(fill(_ASSET_HTML, title=html.escape(asset["title"]), uid=str(user.id),
                          content=content))
