"""Ingest's HTTP edge: pixel, script, download redirect and batch event API."""

from __future__ import annotations

import base64
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import ValidationError

from shared.events import EventEnvelope, RejectReason, Source, utcnow

from . import deps, metrics
from .enrich import tracking_refused
from .incoming import EventBatchIn, EventIn
from .pipeline import Drop, Hit, Sender, invalid, short_error
from .web import STATIC

__all__ = ["TRANSPARENT_GIF", "router"]

log = logging.getLogger(__name__)
router = APIRouter()

#: The 43-byte transparent 1×1 GIF89a.
TRANSPARENT_GIF = base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")
_NO_STORE = {"Cache-Control": "no-store, max-age=0", "Pragma": "no-cache"}


def _sender(request: Request) -> Sender:
    return Sender(
        ip=request.client.host if request.client else "",
        user_agent=request.headers.get("user-agent", ""),
        tracking_refused=tracking_refused(request.headers),
        referrer=request.headers.get("referer"),
        received_at=utcnow(),
    )


def _link_hit(
    request: Request, event_type: str, source: Source, asset_id: str, page: int | None = None
) -> Hit:
    """A pixel or download-link hit: the query names the viewer, the Referer the page."""
    sender = _sender(request)
    return Hit(
        sender, event_type, source, asset_id,
        viewer_id=request.query_params.get("viewer") or None,
        page=page,
        referrer=sender.referrer,
        payload={"type": event_type, "asset_id": asset_id, "page": page},
    )


def _item_hit(sender: Sender, item: EventIn) -> Hit:
    """One item of a batch: the item names everything, down to its end user's User-Agent."""
    return Hit(
        sender, item.type, Source(item.source), item.asset_id,
        viewer_id=item.viewer_id,
        occurred_at=item.occurred_at,
        page=item.page,
        referrer=item.referrer,
        user_agent=item.user_agent,
        event_id=item.event_id,
        view_id=item.view_id,
        engaged_ms=item.engaged_ms,
        wall_ms=item.wall_ms,
        payload=item,
    )


def _page(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    page = int(raw)
    if not 1 <= page <= 10_000:
        raise ValueError("page must be between 1 and 10000")
    return page


@router.get("/px.gif", include_in_schema=True)
async def pixel(request: Request) -> Response:
    """Record a view. Always the GIF, never an error: a broken image in an email is worse
    than a lost hit."""
    params = request.query_params
    try:
        asset_id = params.get("asset", "")
        try:
            hit = _link_hit(request, "view", Source.PIXEL, asset_id, _page(params.get("page")))
            decided: EventEnvelope | Drop = await deps.pipeline(request).decide(hit)
        except (ValueError, ValidationError) as exc:
            decided = invalid(short_error(exc), asset_id, Source.PIXEL, dict(params))
        await deps.publisher(request).publish([decided])
    except Exception:  # noqa: BLE001 - the pixel must answer whatever happens behind it
        metrics.PUBLISH_FAILURES.labels("pixel").inc()
        log.exception("pixel hit not recorded")
    return Response(TRANSPARENT_GIF, media_type="image/gif", headers=_NO_STORE)


@router.get("/t.js")
async def tracker_script(request: Request) -> Response:
    """The page script, at the fixed URL customers paste into their pages."""
    return STATIC.response(request, "t.js")


@router.get("/d/{asset_id}")
async def download(asset_id: str, request: Request) -> Response:
    """Record a download, then send the browser on to the asset's file."""
    pipeline = deps.pipeline(request)
    url = await pipeline.catalog.url_for(asset_id)
    try:
        decided = await pipeline.decide(_link_hit(request, "download", Source.LINK, asset_id))
        await deps.publisher(request).publish([decided])
    except Exception:  # noqa: BLE001 - the reader still gets the file
        metrics.PUBLISH_FAILURES.labels("download").inc()
        log.exception("download hit not recorded")
    if url is None:
        return JSONResponse({"detail": f"unknown asset {asset_id!r}"}, status_code=404)
    return RedirectResponse(url, status_code=302, headers=_NO_STORE)


@router.post("/v1/events", status_code=202)
async def ingest_events(request: Request) -> Response:
    """Batch API and JS beacon. All or nothing: any invalid item → 422 and nothing published.
    Accepts ``text/plain`` too, which is what ``navigator.sendBeacon`` sends without a
    CORS preflight."""
    limit: int = request.app.state.settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        return _too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            return _too_large(limit)
    try:
        batch = EventBatchIn.model_validate_json(bytes(body) or b"null")
    except (ValueError, ValidationError) as exc:
        return JSONResponse(
            {"detail": "body must be JSON {\"events\": [...]} with at most 1000 events",
             "errors": [short_error(exc)]},
            status_code=422,
        )
    decided, errors = await _decide_batch(request, batch.events)
    if errors:
        for error in errors:
            metrics.EVENTS_REJECTED.labels(error["reason"]).inc()
        detail = f"{len(errors)} of {len(batch.events)} events are invalid; none were accepted"
        return JSONResponse({"detail": detail, "errors": errors}, status_code=422)
    try:
        await deps.publisher(request).publish(decided)
    except Exception:  # noqa: BLE001
        metrics.PUBLISH_FAILURES.labels("events").inc()
        ids = [d.event_id if isinstance(d, EventEnvelope) else d.record.event_id
               for d in decided[:100]]
        log.exception("event batch not acknowledged by the broker",
                      extra={"event_ids": [str(i) for i in ids]})
        return JSONResponse({"detail": "the event broker did not acknowledge the events; "
                                       "retry with the same event_ids"}, status_code=503)
    accepted = sum(isinstance(d, EventEnvelope) for d in decided)
    return JSONResponse(
        {"accepted": accepted, "filtered_as_bot": len(decided) - accepted}, status_code=202
    )


async def _decide_batch(
    request: Request, items: list[dict[str, Any]]
) -> tuple[list[EventEnvelope | Drop], list[dict[str, Any]]]:
    """Each item through the pipeline. Bots are filtered (kept on ``events-rejected``);
    any other drop is the client's error, answered per item."""
    pipeline, sender = deps.pipeline(request), _sender(request)
    decided: list[EventEnvelope | Drop] = []
    errors: list[dict[str, Any]] = []
    for index, raw in enumerate(items):
        try:
            item = EventIn.model_validate(raw)
        except ValidationError as exc:
            errors.append({"index": index, "reason": RejectReason.INVALID.value,
                           "message": short_error(exc)})
            continue
        outcome = await pipeline.decide(_item_hit(sender, item))
        if isinstance(outcome, Drop) and outcome.reason is not RejectReason.BOT:
            errors.append({"index": index, "reason": outcome.reason.value,
                           "message": outcome.message})
            continue
        decided.append(outcome)
    return decided, errors


def _too_large(limit: int) -> Response:
    metrics.EVENTS_REJECTED.labels("too_large").inc()
    return JSONResponse({"detail": f"body larger than {limit} bytes"}, status_code=413)
