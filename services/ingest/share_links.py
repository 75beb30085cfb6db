"""Share links: ``/s/{id}``, a rep's link to an asset for one recipient (docs/share-links.md).

An open publishes ONE ``view`` (source ``share``) whose viewer is the link's recipient as
seen from this browser, then sends the browser on (302) to the asset's url (the hosted
viewer, /v/{asset}, when the asset has a file: viewer.py) with
``gb_visit=<the open's event_id>``, so the page script credits its engaged time to the
open instead of counting a view of its own. The identity comes from the link in ingest's
cache and from ingest's own first-party cookie ``gb_b``, never from a query parameter.

What does not count is still answered: a HEAD, an open within seconds of the link being
made, from a scanner network or by a bot goes on to the asset without ``gb_visit`` and is
kept on ``events-rejected`` (the pipeline's ``check_share`` and ``check_scanner``). An
email gate shows a form first; the POST with an email is the open.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from prometheus_client import Counter

from shared.events import EventEnvelope, Source, utcnow
from shared.share_links import LINK_ID_PATTERN, browser_key, gate_email_hash, recipient_viewer_id

from . import deps, metrics
from .pipeline import Drop, Hit, ShareOpen
from .routes import _over_limit, _sender
from .share_cache import LinkState, ShareLink, ShareLinkCache
from .throttle import Bucket
from .viewer import viewer_url
from .web import templates

__all__ = ["BROWSER_COOKIE", "SHARE_OPENS", "router"]

log = logging.getLogger(__name__)
router = APIRouter()

SHARE_OPENS = Counter(
    "glassboard_ingest_share_opens_total", "Share-link requests, by outcome", ["outcome"])

#: The first-party browser id: random, set on /s/ only, and only ever hashed with a link.
BROWSER_COOKIE = "gb_b"
_COOKIE_VALUE = re.compile(r"^[A-Za-z0-9_-]{22}$")
#: Chrome caps a cookie's lifetime at 400 days.
_COOKIE_MAX_AGE = 400 * 24 * 3600
_LINK_ID = re.compile(LINK_ID_PATTERN)
_MAX_FORM_BYTES = 4096
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]{2,}$")


_STYLE = base64.b64encode(hashlib.sha256(
    templates.get_template("share_links/page.css").render().encode()).digest()).decode()


def _csp(form_target: str = "") -> str:
    # A form's redirect must be allowed too: the gate's POST ends on the asset's origin.
    return (f"default-src 'none'; style-src 'sha256-{_STYLE}'; "
            f"form-action 'self' {form_target}; base-uri 'none'; frame-ancestors 'none'")


_CSP = _csp()
_HEADERS = {
    "Cache-Control": "no-store, max-age=0",
    # The link is the whole secret: never send it on as a Referer.
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
}

_UNAVAILABLE = {
    None: (404, "This link does not exist",
           "Check that you copied the whole link from the message."),
    LinkState.REVOKED: (410, "This link was withdrawn",
                        "The person who sent it no longer shares the document through it."),
    LinkState.EXPIRED: (410, "This link has expired",
                        "It was shared for a limited time, which is over."),
    "asset": (410, "This document is no longer available",
              "It was removed after the link was sent."),
}


def _cache(request: Request) -> ShareLinkCache:
    return request.app.state.share_links  # type: ignore[no-any-return]


async def _live(request: Request, link_id: str) -> tuple[ShareLink, str] | Response:
    """The link and its asset's url, or the page saying why it leads nowhere."""
    link = await _cache(request).find(link_id) if _LINK_ID.match(link_id) else None
    state = link.state(utcnow()) if link else None
    if link is None or state is not LinkState.OPEN:
        return _unavailable(request, state)
    url = await deps.pipeline(request).catalog.url_for(link.asset_id)
    if url is None:
        return _unavailable(request, "asset")
    # An asset with a file opens in the hosted viewer, which measures it page by page.
    return link, viewer_url(request, link.asset_id) or url


@router.api_route("/s/{link_id}", methods=["GET", "HEAD"], response_class=HTMLResponse)
async def open_link(link_id: str, request: Request) -> Response:
    """Open the link: the gate's form, or the open and the redirect."""
    live = await _live(request, link_id)
    if isinstance(live, Response):
        return live
    link, url = live
    if link.email_gate:
        if request.method == "HEAD":
            return _gate(request, link, url, head=True)
        SHARE_OPENS.labels("gate_shown").inc()
        return _gate(request, link, url)
    return await _open(request, link, url, None, status=302)


@router.post("/s/{link_id}", response_class=HTMLResponse)
async def pass_gate(link_id: str, request: Request) -> Response:
    """The gate's form: with an email, the open (303, so the browser GETs the asset);
    without one, the form again saying why."""
    live = await _live(request, link_id)
    if isinstance(live, Response):
        return live
    link, url = live
    email = (await _form(request)).get("email", "").strip()
    if not link.email_gate:
        return await _open(request, link, url, None, status=303)
    if not email:
        return _gate(request, link, url, email, "Enter your email address to continue.", 422)
    if len(email) > 254 or not _EMAIL.match(email):
        return _gate(request, link, url, email,
                     "That does not look like an email address. Check it and try again.", 422)
    return await _open(request, link, url, gate_email_hash(link.id, email), status=303)


async def _open(
    request: Request, link: ShareLink, url: str, email_hash: str | None, *, status: int
) -> Response:
    """Decide the open, publish it, and send the browser on: with ``gb_visit`` when it
    counts, without when it does not (or was not recorded): the reader gets the page."""
    cookie = _browser_cookie(request)
    head = request.method == "HEAD"
    visit: str | None = None
    outcome = "head" if head else "opened"
    try:
        limited = await _over_limit(request, Bucket.PIXEL, None, 1, lambda: [
            (link.asset_id, Source.SHARE, _payload(link))])
        if limited is not None:
            outcome = "rate_limited"
        else:
            key = browser_key(link.id, cookie)
            hit = _hit(request, link, ShareOpen(link.id, link.created_at, key, email_hash, head))
            decided = await deps.pipeline(request).decide(hit)
            await deps.publisher(request).publish([decided])
            if isinstance(decided, EventEnvelope):
                visit = str(decided.event_id)
            elif isinstance(decided, Drop) and not head:
                outcome = decided.reason.value
    except Exception:  # noqa: BLE001 - the reader still gets the document
        metrics.PUBLISH_FAILURES.labels("share").inc()
        log.exception("share-link open not recorded")
        outcome = "not_recorded"
    SHARE_OPENS.labels(outcome).inc()
    target = _with_visit(url, visit) if visit else url
    response = RedirectResponse(target, status_code=status, headers=_HEADERS)
    if not head:
        _set_cookie(request, response, cookie)
    return response


def _hit(request: Request, link: ShareLink, share: ShareOpen) -> Hit:
    sender = _sender(request)
    return Hit(sender, "view", Source.SHARE, link.asset_id,
               viewer_id=recipient_viewer_id(link.id, share.browser_key),
               referrer=sender.referrer, payload=_payload(link), share=share)


def _payload(link: ShareLink) -> dict[str, object]:
    # Never the link id: rejected hits are shown to every signed-in user, and the id is
    # the link itself.
    return {"type": "view", "asset_id": link.asset_id, "share": True}


def _with_visit(url: str, visit: str) -> str:
    """``url`` with ``gb_visit`` set (any one the url carried replaced), before its #."""
    parts = urlsplit(url)
    query = "&".join(p for p in parts.query.split("&") if p and not p.startswith("gb_visit="))
    query = f"{query}&{urlencode({'gb_visit': visit})}" if query else urlencode(
        {"gb_visit": visit})
    return urlunsplit(parts._replace(query=query))


def _browser_cookie(request: Request) -> str:
    value = request.cookies.get(BROWSER_COOKIE, "")
    return value if _COOKIE_VALUE.match(value) else secrets.token_urlsafe(16)


def _set_cookie(request: Request, response: Response, value: str) -> None:
    response.set_cookie(BROWSER_COOKIE, value, max_age=_COOKIE_MAX_AGE, path="/s/",
                        secure=request.url.scheme == "https", httponly=True, samesite="lax")


def _gate(request: Request, link: ShareLink, url: str, email: str = "", error: str = "",
          status: int = 200, *, head: bool = False) -> Response:
    origin = urlsplit(url)
    response = templates.TemplateResponse(
        request, "share_links/gate.html", {"link_id": link.id, "email": email, "error": error},
        status_code=status,
        headers={**_HEADERS, "Content-Security-Policy": _csp(
            f"{origin.scheme}://{origin.netloc}" if origin.netloc else "")})
    if not head:
        _set_cookie(request, response, _browser_cookie(request))
    return response


def _unavailable(request: Request, why: LinkState | str | None) -> Response:
    status, title, message = _UNAVAILABLE[why]
    SHARE_OPENS.labels(str(why or "unknown")).inc()
    return templates.TemplateResponse(
        request, "share_links/unavailable.html", {"title": title, "message": message},
        status_code=status, headers={**_HEADERS, "Content-Security-Policy": _CSP})


async def _form(request: Request) -> dict[str, str]:
    """The gate's urlencoded form; anything else, or too large, is an empty form."""
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > _MAX_FORM_BYTES:
            return {}
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return {}
    try:
        fields = parse_qs(body.decode("utf-8"), max_num_fields=5)
    except (UnicodeDecodeError, ValueError):
        return {}
    return {key: values[0] for key, values in fields.items()}
