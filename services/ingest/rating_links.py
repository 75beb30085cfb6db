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

import base64
import hashlib
import logging
import re
import time
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from prometheus_client import Counter
from pydantic import ValidationError

from shared.command_signing import command_key, signature_headers
from shared.commands import COMMENT_MAX_CHARS, RatingCommand
from shared.events import utcnow
from shared.signing import EXPIRED, verify_rating_link

from . import deps
from .web import templates

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


def _csp_hash(template: str) -> str:
    """The CSP source allowing the inline style or script that ``template`` renders."""
    source = templates.get_template(template).render()
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


_HEADERS = {
    "Cache-Control": "no-store, max-age=0",
    # The URL carries the signature: never send it on as a Referer.
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        f"default-src 'none'; style-src {_csp_hash('rating_links/page.css')}; "
        f"script-src {_csp_hash('rating_links/autosubmit.js')}; "
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
    if await deps.pipeline(request).catalog.url_for(asset_id) is None:
        raise _Refused(404, "unknown_asset", "This asset no longer exists",
                       "It may have been removed from the catalog, so nothing was recorded.")
    return _Link(asset_id, int(user), int(stars), int(exp), sig)


@router.get("/r/{asset_id}/{stars}", response_class=HTMLResponse)
async def confirm_rating(asset_id: str, stars: str, request: Request) -> Response:
    """Check the link and answer a page that records the rating by POSTing itself; or,
    after a POST (``done=``), the thank-you page, which records nothing."""
    try:
        link = await _checked(request, asset_id, stars)
    except _Refused as refused:
        return _refusal(request, refused)
    done = request.query_params.get("done")
    if done in ("rated", "note"):
        return _thanks(request, link, "Thanks for rating", noted=done == "note")
    RATING_LINKS.labels("opened").inc()
    return _page(request, "confirm.html", link=link, cid=uuid.uuid4())


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
        return _thanks(request, link, "Note too long", draft=too_long.draft,
                       error=too_long.message, status=422)
    except _Refused as refused:
        return _refusal(request, refused)
    except ValidationError:
        return _refusal(request, _Refused(422, "invalid", "We could not save this note",
                                          "It contains characters Glassboard cannot store."))
    try:
        # Signed over the exact bytes: the ratings service applies only what ingest signed.
        body = command.model_dump_json().encode()
        settings = request.app.state.settings
        await deps.publisher(request).send(
            settings.topics.rating_commands.name, command.asset_id, body,
            headers=signature_headers(
                command_key(settings.signing_secret.get_secret_value()), body))
    except Exception:  # noqa: BLE001 - the rater gets a page that lets them retry
        RATING_LINKS.labels("publish_failed").inc()
        log.exception("rating command not acknowledged by the broker")
        return _page(request, "not_recorded.html", status=503, link=link,
                     cid=command.command_id, comment=comment)
    RATING_LINKS.labels("commented" if comment else "recorded").inc()
    done = "note" if comment else "rated"
    return RedirectResponse(f"{link.path()}&done={done}", status_code=303, headers=_HEADERS)


def _thanks(
    request: Request, link: _Link, title: str, *, noted: bool = False, draft: str = "",
    error: str = "", status: int = 200,
) -> Response:
    """The thank-you page, or (with ``error``) the note form again with the rater's draft."""
    return _page(request, "thanks.html", status=status, title=title, link=link,
                 cid=uuid.uuid4(), noted=noted, draft=draft, error=error,
                 max_chars=COMMENT_MAX_CHARS)


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


def _refusal(request: Request, refused: _Refused) -> Response:
    RATING_LINKS.labels(refused.outcome).inc()
    return _page(request, "refused.html", status=refused.status, title=refused.title,
                 message=refused.message)


def _page(request: Request, name: str, status: int = 200, **context: object) -> Response:
    return templates.TemplateResponse(request, f"rating_links/{name}", context,
                                      status_code=status, headers=_HEADERS)
