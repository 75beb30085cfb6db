"""The pages people open in a browser, rendered from ``templates/``: the scoreboard (/),
stale content (/stale), how scores work (/help/scoring), one asset (/assets/{id}), the alert
inbox (/alerts), my share links (/links), sign-in (/login) and the mobile rating app, a PWA
under /app/.

Pages are shells that their JavaScript fills from the JSON APIs. All but /login need a
session; without one they send the browser to /login and back. Their files are under
/static/ (``static_app``, content-hashed URLs). The PWA's service worker controls only the
folder it is served from, so /app/ serves the worker, the manifest and the app's shell.
"""

from __future__ import annotations

import hashlib
from urllib.parse import quote, urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from shared.web import HashedStaticFiles, StaticFile, make_templates, respond

from ..catalog.models import ASSET_TYPES, STAGES
from ..catalog.store import fetch_asset, list_owners, record_view
from ..identity.auth import optional_user
from ..identity.models import Role, User
from ..reads.aggregator import fetch_score_state

__all__ = ["HTML_HEADERS", "router", "static_app"]

router = APIRouter(include_in_schema=False)
static_app = HashedStaticFiles.from_package("services.ratings.web")

#: Security headers of every page: scripts and styles only from this origin.
HTML_HEADERS = {
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


def label(slug: str) -> str:
    """``product_sheet`` → ``Product sheet``."""
    return slug.replace("_", " ").capitalize()


templates = make_templates("services.ratings.web", static_app)
templates.env.filters["label"] = label
templates.env.globals.update(
    ASSET_TYPES=ASSET_TYPES,
    STAGES=STAGES,
    icon="app/icon.svg",  # every page's favicon (base.html)
    # (key, href, text) of the dashboard's main navigation, and of the inbox's shorter one.
    DASH_NAV=(("board", "/", "Scoreboard"), ("stale", "/stale", "Stale content"),
              ("app", "/app/", "Rate assets"), ("links", "/links", "My links"),
              ("alerts", "/alerts", "Alerts"), ("help", "/help/scoring", "How scores work")),
    ALERTS_NAV=(("board", "/", "Scoreboard"), ("app", "/app/", "Rate"),
                ("links", "/links", "Links"), ("alerts", "/alerts", "Alerts")),
)


def _app_files() -> tuple[StaticFile, StaticFile]:
    """The app's shell page and its service worker, rendered once. The worker's cache name
    carries a hash of the shell and every app file, so a changed file reaches phones."""
    shell = StaticFile.of("shell.html", templates.get_template("app.html").render().encode())
    digest = hashlib.sha256(shell.body)
    for name in sorted(n for n in static_app.files if n.startswith("app/")):
        digest.update(f"{name}\0{static_app[name].version}\0".encode())
    worker = templates.get_template("sw.js").render(version=digest.hexdigest()[:12])
    return shell, StaticFile.of("sw.js", worker.encode())


_SHELL, _WORKER = _app_files()


def _page(request: Request, name: str, status_code: int = 200, **context: object) -> Response:
    return templates.TemplateResponse(request, name, context, status_code=status_code,
                                      headers=HTML_HEADERS)


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


# --- the dashboard -----------------------------------------------------------------------

async def _list_page(request: Request, view: str) -> Response:
    user = await session_user(request)
    if user is None:
        return login_redirect(request)
    owners = await list_owners(request.app.state.pool)
    return _page(request, f"{view}.html", user=user, view=view, owners=owners)


@router.get("/")
async def scoreboard(request: Request) -> Response:
    return await _list_page(request, "board")


@router.get("/stale")
async def stale_content(request: Request) -> Response:
    return await _list_page(request, "stale")


@router.get("/help/scoring")
async def scoring_help(request: Request) -> Response:
    user = await session_user(request)
    if user is None:
        return login_redirect(request)
    return _page(request, "help_scoring.html", user=user, view="help")


@router.get("/alerts")
async def alerts_page(request: Request) -> Response:
    user = await session_user(request)
    if user is None:
        return login_redirect(request)
    return _page(request, "alerts.html", user=user, admin=user.role is Role.ADMIN)


@router.get("/links")
async def links_page(request: Request) -> Response:
    """My share links, their visits live and the accounts they reached (links.js)."""
    user = await session_user(request)
    if user is None:
        return login_redirect(request)
    return _page(request, "links.html", user=user, view="links",
                 can_share=user.role is not Role.EXECUTIVE)


# --- one asset ---------------------------------------------------------------------------

@router.get("/assets/{asset_id}")
async def asset_page(asset_id: str, request: Request) -> Response:
    user = await session_user(request)
    if user is None:
        return login_redirect(request)
    pool = request.app.state.pool
    asset = await fetch_asset(pool, asset_id, user.id)
    if asset is None:
        return _page(request, "asset.html", 404, user=user, asset=None, asset_id=asset_id)
    await record_view(pool, user.id, asset_id)
    # Inlined, the latest score shows at once and the live stream resumes from its revision.
    state = await fetch_score_state(pool, asset_id)
    return _page(request, "asset.html", user=user, asset=asset, state=state,
                 can_share=user.role is not Role.EXECUTIVE,
                 ingest=request.app.state.settings.ingest_base_url.rstrip("/"),
                 slug=quote(asset["id"], safe=""))


# --- sign-in and the app -----------------------------------------------------------------

@router.get("/login")
async def login_page(request: Request, next: str | None = None) -> Response:
    target = _safe_next(next)
    if await session_user(request) is not None:
        return RedirectResponse(target, status_code=303)
    settings = getattr(request.app.state, "settings", None)
    return _page(request, "login.html", next=target,
                 production=settings is not None and settings.env == "production",
                 smtp=settings is not None and bool(settings.smtp_host))


@router.get("/app")
async def app_without_slash() -> RedirectResponse:
    return RedirectResponse("/app/", status_code=308)


@router.get("/app/")
async def app_shell(request: Request) -> Response:
    if await session_user(request) is None:
        return login_redirect(request)
    return HTMLResponse(_SHELL.body, headers=HTML_HEADERS)


@router.get("/app/shell.html")
async def app_offline_shell(request: Request) -> Response:
    """The same page for the worker's cache, which fetches it without a session."""
    return respond(request, _SHELL, headers=HTML_HEADERS)


@router.get("/app/sw.js")
async def app_worker(request: Request) -> Response:
    return respond(request, _WORKER, headers={"Service-Worker-Allowed": "/app/"})


@router.get("/app/manifest.webmanifest")
async def app_manifest(request: Request) -> Response:
    return static_app.response(request, "app/manifest.webmanifest")
