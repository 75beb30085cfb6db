"""One-tap rating links: ``/r/{asset_id}/{stars}?u=&exp=&sig=``, signed for one rater.

GET only *shows* a page; POST records. Mail scanners and link previewers fetch every
link in a message (Outlook Safe Links, Proofpoint, Mimecast, chat unfurlers), and a GET
that rated would leave a random one of the five stars as the rater's vote. The GET page
submits its own POST form at once, so a person still taps once in the email and sees
"thanks", while a fetch that does not run the page records nothing. See
docs/rating-links.md.

The edge checks the signature, expiry, stars and asset, then publishes a
:class:`RatingCommand` for the ratings service to apply. It never touches the ratings table.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import re
import time
import uuid
from dataclasses import dataclass
from html import escape
from urllib.parse import parse_qs, quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from prometheus_client import Counter
from pydantic import ValidationError

from shared.commands import COMMENT_MAX_CHARS, RatingCommand
from shared.events import utcnow
from shared.kafka import publish_keyed
from shared.signing import EXPIRED, verify_rating_link

from .tracker import Tracker

__all__ = ["RATING_LINKS", "router"]

log = logging.getLogger(__name__)
router = APIRouter()

RATING_LINKS = Counter(
    "glassboard_ingest_rating_links_total",
    "One-tap rating link requests, by outcome",
    ["outcome"],
)

#: A form body larger than this is not a person's note (2000 chars of 4-byte UTF-8,
#: percent-encoded, is 24 KB).
_MAX_FORM_BYTES = 64 * 1024
_INT = re.compile(r"^[0-9]{1,15}$")

_STYLE = (
    "body{font:1.05rem/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;"
    "color:#1a1a1a;background:#f6f6f4}main{max-width:30rem;margin:0 auto;padding:1.5rem 1rem}"
    "h1{font-size:1.35rem;line-height:1.3;margin:0 0 1rem}"
    "label{display:block;font-weight:600;margin:1.25rem 0 .35rem}"
    "textarea{box-sizing:border-box;width:100%;font:inherit;padding:.6rem;"
    "border:1px solid #767676;border-radius:.4rem;background:#fff}"
    "button{font:inherit;font-weight:600;min-height:2.75rem;padding:.5rem 1.25rem;margin-top:.75rem;"
    "border:0;border-radius:.4rem;background:#0b57d0;color:#fff;cursor:pointer}"
    "button:focus-visible,a:focus-visible,textarea:focus-visible{outline:3px solid #f29900;"
    "outline-offset:2px}.hint{color:#555;font-size:.9rem}"
    ".stars{display:flex;gap:.35rem;flex-wrap:wrap;padding:0;margin:.5rem 0 0;list-style:none}"
    ".stars a{display:inline-block;min-width:2.75rem;min-height:2.75rem;line-height:2.75rem;"
    "text-align:center;border:1px solid #767676;border-radius:.4rem;background:#fff;"
    "color:#1a1a1a;text-decoration:none}.stars a[aria-current]{background:#0b57d0;color:#fff}"
)
# Auto-submit only on a fresh navigation: not while Chrome prerenders the page, and not
# when the rater comes back with the Back button or reloads (that would rate again, and
# on Android trap Back in a loop). Those see the button instead.
_SCRIPT = (
    "(function(){var f=document.getElementById('rate');if(!f)return;"
    "var n=performance.getEntriesByType&&performance.getEntriesByType('navigation')[0];"
    "if(n&&n.type!=='navigate')return;"
    "if(document.prerendering){document.addEventListener('prerenderingchange',"
    "function(){f.submit()},{once:true})}else{f.submit()}})();"
)


def _csp_hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


_HEADERS = {
    "Cache-Control": "no-store, max-age=0",
    # The URL carries the signature: never send it on as a Referer.
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        f"default-src 'none'; style-src {_csp_hash(_STYLE)}; script-src {_csp_hash(_SCRIPT)}; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
}


@dataclass(frozen=True)
class _Link:
    asset_id: str
    user_id: int
    stars: int
    expires_at: int
    sig: str

    def path(self, stars: int | None = None) -> str:
        query = urlencode({"u": self.user_id, "exp": self.expires_at, "sig": self.sig})
        return f"/r/{quote(self.asset_id, safe='')}/{stars or self.stars}?{query}"


class _Refused(Exception):
    def __init__(self, status: int, outcome: str, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.outcome, self.title, self.message = status, outcome, title, message


class _TooLong(_Refused):
    def __init__(self, draft: str) -> None:
        super().__init__(422, "comment_too_long", "This note is too long",
                         f"Notes hold up to {COMMENT_MAX_CHARS} characters; this one has "
                         f"{len(draft)}. Shorten it and save again; your rating is unchanged.")
        self.draft = draft


def _tracker(request: Request) -> Tracker:
    return request.app.state.tracker  # type: ignore[no-any-return]


async def _checked(request: Request, asset_id: str, stars: str) -> _Link:
    """The link, if genuine, unexpired, for 1..5 stars and a known asset; _Refused if not."""
    params = request.query_params
    user, exp, sig = params.get("u", ""), params.get("exp", ""), params.get("sig", "")
    if not (_INT.match(user) and _INT.match(exp) and sig):
        raise _Refused(400, "malformed", "This link is incomplete",
                       "Part of the rating link is missing. Try tapping it in the email "
                       "again, or copy the whole link.")
    if stars not in {"1", "2", "3", "4", "5"}:
        raise _Refused(400, "bad_stars", "Ratings go from 1 to 5 stars",
                       "This link asks for a rating Glassboard does not have. "
                       "Pick one of the five stars in the email.")
    secret = request.app.state.settings.signing_secret.get_secret_value()
    problem = verify_rating_link(secret, asset_id, int(user), int(exp), sig, int(time.time()))
    if problem == EXPIRED:
        raise _Refused(410, "expired", "This rating link has expired",
                       "Rating links work for 30 days. Rate the asset in Glassboard, or ask "
                       "for a fresh email.")
    if problem is not None:
        log.info("refused a rating link with a bad signature for asset %r", asset_id[:80])
        raise _Refused(403, "forged", "This link is not valid",
                       "The rating link was changed or is not from Glassboard, so nothing "
                       "was recorded.")
    if await _tracker(request).catalog.url_for(asset_id) is None:
        raise _Refused(404, "unknown_asset", "This asset no longer exists",
                       "It may have been removed from the catalog, so nothing was recorded.")
    return _Link(asset_id, int(user), int(stars), int(exp), sig)


@router.get("/r/{asset_id}/{stars}", response_class=HTMLResponse)
async def confirm_rating(asset_id: str, stars: str, request: Request) -> HTMLResponse:
    """Check the link and answer a page that records the rating by POSTing itself; or,
    after a POST (``done=``), the thank-you page, which records nothing."""
    try:
        link = await _checked(request, asset_id, stars)
    except _Refused as refused:
        return _refusal(refused)
    done = request.query_params.get("done")
    if done in ("rated", "note"):
        return _page("Thanks for rating", _thanks(link, noted=done == "note"))
    RATING_LINKS.labels("opened").inc()
    body = (
        f"<h1>Rating {_label(link)}…</h1>"
        f'<form id="rate" method="post" action="{escape(link.path())}">'
        f'<input type="hidden" name="cid" value="{uuid.uuid4()}">'
        f'<p class="hint" role="status">If nothing happens, tap the button.</p>'
        f"<button type=\"submit\">Record {link.stars}★</button></form>"
        f"<script>{_SCRIPT}</script>"
    )
    return _page("Recording your rating", body)


@router.post("/r/{asset_id}/{stars}", response_class=HTMLResponse)
async def record_rating(asset_id: str, stars: str, request: Request) -> Response:
    """Record the rating, with the optional "why" from the form, then redirect (303) to the
    thank-you page: Back and Reload then never ask to resubmit a form."""
    try:
        link = await _checked(request, asset_id, stars)
        form = await _form(request)
        comment = _comment(form)
        command = RatingCommand(
            command_id=_command_id(form), asset_id=link.asset_id, user_id=link.user_id,
            stars=link.stars, comment=comment, issued_at=utcnow(),
        )
    except _TooLong as too_long:
        RATING_LINKS.labels(too_long.outcome).inc()
        return _page("Note too long", _thanks(link, draft=too_long.draft, error=too_long.message),
                     status=422)
    except _Refused as refused:
        return _refusal(refused)
    except ValidationError:
        return _refusal(_Refused(422, "invalid", "We could not save this note",
                                 "It contains characters Glassboard cannot store."))
    tracker = _tracker(request)
    try:
        await asyncio.wait_for(
            publish_keyed(tracker.broker, request.app.state.settings.topics.rating_commands.name,
                          [(command.asset_id, command.model_dump_json().encode())]),
            tracker.publish_timeout,
        )
    except Exception:  # noqa: BLE001 - the rater gets a page that lets them retry
        RATING_LINKS.labels("publish_failed").inc()
        log.exception("rating command not acknowledged by the broker")
        retry = (f'<form method="post" action="{escape(link.path())}">'
                 f'<input type="hidden" name="cid" value="{command.command_id}">'
                 f'<input type="hidden" name="comment" value="{escape(comment or "")}">'
                 f'<button type="submit">Try again</button></form>')
        return _page("Not recorded yet", "<h1>Your rating was not recorded yet</h1>"
                     '<p role="alert">Glassboard is busy. Please try again in a minute.</p>'
                     + retry, status=503)
    RATING_LINKS.labels("commented" if comment else "recorded").inc()
    done = "note" if comment else "rated"
    return RedirectResponse(f"{link.path()}&done={done}", status_code=303, headers=_HEADERS)


def _thanks(link: _Link, *, noted: bool = False, draft: str = "", error: str = "") -> str:
    """The thank-you page, or (with ``error``) the note form again with the rater's draft."""
    heading = f'<h1 role="status">Thanks — you rated {_label(link)}</h1>'
    label = "Why? One sentence helps marketing (optional)"
    note, invalid = "", ""
    if noted:
        note = '<p role="status">Your note is saved. Thank you for explaining.</p>'
        label = "Replace your note (optional)"
    if error:
        heading = "<h1>Your note is too long</h1>"
        note = f'<p role="alert" id="why-error">{escape(error)}</p>'
        invalid = ' aria-invalid="true"'
    current = ' aria-current="true"'
    others = "".join(
        f'<li><a href="{escape(link.path(n))}" aria-label="Rate {n} of 5 stars"'
        f'{current if n == link.stars else ""}>{n}★</a></li>'
        for n in range(1, 6)
    )
    return (
        f"{heading}{note}"
        f'<form method="post" action="{escape(link.path())}">'
        f'<input type="hidden" name="cid" value="{uuid.uuid4()}">'
        f'<label for="why">{label}</label>'
        f'<textarea id="why" name="comment" rows="4" maxlength="{COMMENT_MAX_CHARS}" '
        f'aria-describedby="why-hint{" why-error" if error else ""}"{invalid}>'
        f"{escape(draft)}</textarea>"
        f'<p id="why-hint" class="hint">Up to {COMMENT_MAX_CHARS} characters. '
        f"Your rating stays {link.stars}★.</p>"
        f'<button type="submit">Save note</button></form>'
        f'<h2 class="hint">Changed your mind?</h2><ul class="stars">{others}</ul>'
    )


def _label(link: _Link) -> str:
    # The edge caches ids and urls only, so the page names the asset by its id.
    return (f"<strong>{escape(link.asset_id)}</strong> "
            f'<span aria-label="{link.stars} of 5 stars">{link.stars}★</span>')


async def _form(request: Request) -> dict[str, str]:
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > _MAX_FORM_BYTES:
            raise _Refused(413, "too_large", "This note is far too long",
                           f"Notes hold up to {COMMENT_MAX_CHARS} characters.")
    if not body:
        return {}
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise _Refused(415, "malformed", "Unexpected form", "Send the form from the rating page.")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=10,
                          strict_parsing=False)
    except (UnicodeDecodeError, ValueError) as exc:
        raise _Refused(400, "malformed", "Unexpected form",
                       "Send the form from the rating page.") from exc
    return {key: values[0] for key, values in fields.items()}


def _comment(form: dict[str, str]) -> str | None:
    # Browsers send a textarea's line breaks as CRLF; count them as one character, as
    # the textarea's maxlength does.
    comment = form.get("comment", "").replace("\r\n", "\n").strip()
    if len(comment) > COMMENT_MAX_CHARS:
        raise _TooLong(comment)
    return comment or None


def _command_id(form: dict[str, str]) -> uuid.UUID:
    """The page's command id, so a double tap or a resubmitted form is applied once."""
    try:
        return uuid.UUID(form.get("cid", ""))
    except ValueError:
        return uuid.uuid4()


def _refusal(refused: _Refused) -> HTMLResponse:
    RATING_LINKS.labels(refused.outcome).inc()
    body = (f"<h1>{escape(refused.title)}</h1>"
            f'<p role="alert">{escape(refused.message)}</p>')
    return _page(refused.title, body, status=refused.status)


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="robots" content="noindex,nofollow">'
        f"<title>{escape(title)} · Glassboard</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )
    return HTMLResponse(html, status_code=status, headers=_HEADERS)
