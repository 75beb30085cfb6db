"""The scoreboard's pages: the live leaderboard (/), stale content (/stale) and how the
content score is computed (/help/scoring).

Server-rendered shells with the filter choices filled in; board.js reads the board API
(/v1/scores) and follows the score stream, so nothing here touches scores. Signed-in
people only, like the rest of the app.
"""

from __future__ import annotations

import html
from importlib import resources

from fastapi import APIRouter, Request
from fastapi.responses import Response

from . import board_repo
from .catalog import ASSET_TYPES, STAGES
from .pages import fill, html_page, login_redirect, options_html, session_user
from .static_assets import versioned
from .users import User

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_STATIC = resources.files("services.ratings") / "static"


def _template(name: str) -> str:
    return versioned((_STATIC / name).read_text())


_HEADER = _template("dash-header.html")
_BOARD = _template("board.html")
_STALE = _template("stale.html")
_HELP = _template("help-scoring.html")
_NAV = (("board", "/", "Scoreboard"), ("stale", "/stale", "Stale content"),
        ("app", "/app/", "Rate assets"), ("alerts", "/alerts", "Alerts"),
        ("help", "/help/scoring", "How scores work"))


def _header(current: str, user: User) -> str:
    here = ' aria-current="page"'
    links = "".join(
        f'<a href="{href}"{here if key == current else ""}>{text}</a>' for key, href, text in _NAV
    )
    return fill(_HEADER, nav=links, email=html.escape(user.email))


async def _filters(request: Request) -> dict[str, str]:
    owners = await board_repo.list_owners(request.app.state.pool)
    return {
        "type_options": options_html(ASSET_TYPES),
        "stage_options": options_html(STAGES),
        "owner_options": "".join(
            f'<option value="{html.escape(o, quote=True)}">{html.escape(o)}</option>' for o in owners
        ),
    }


@router.get("/")
async def scoreboard(request: Request) -> Response:
    user = await session_user(request)
    if user is None:
        return login_redirect(request)
    return html_page(fill(_BOARD, header=_header("board", user), **await _filters(request)))


@router.get("/stale")
async def stale_content(request: Request) -> Response:
    user = await session_user(request)
    if user is None:
        return login_redirect(request)
    return html_page(fill(_STALE, header=_header("stale", user), **await _filters(request)))


@router.get("/help/scoring")
async def scoring_help(request: Request) -> Response:
    user = await session_user(request)
    if user is None:
        return login_redirect(request)
    return html_page(fill(_HELP, header=_header("help", user)))
