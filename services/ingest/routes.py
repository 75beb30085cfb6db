"""Ingest's HTTP edge: pixel, script, download redirect and batch event API."""

from __future__ import annotations

import base64
import logging
from importlib import resources
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import ValidationError

from shared.events import (
    DeviceClass,
    EventEnvelope,
    RejectedEvent,
    RejectReason,
    Source,
    describe_errors,
    utcnow,
)

from . import metrics
from .enrich import referrer_host, tracking_refused
from .incoming import EventBatchIn, EventIn, check_event_time
from .tracker import HitContext, Tracker

__all__ = ["TRANSPARENT_GIF", "router"]

log = logging.getLogger(__name__)
router = APIRouter()

#: The 43-byte transparent 1×1 GIF89a.
TRANSPARENT_GIF = base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")
_NO_STORE = {"Cache-Control": "no-store, max-age=0", "Pragma": "no-cache"}
_TRACKER_JS = (resources.files("services.ingest") / "static" / "t.js").read_bytes()


def _context(request: Request) -> HitContext:
    return HitContext(
        ip=request.client.host if request.client else "",
        user_agent=request.headers.get("user-agent", ""),
        tracking_refused=tracking_refused(request.headers),
        referrer=request.headers.get("referer"),
        now=utcnow(),
    )


def _tracker(request: Request) -> Tracker:
    return request.app.state.tracker  # type: ignore[no-any-return]


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
        tracker = _tracker(request)
        ctx = _context(request)
        asset_id = params.get("asset", "")
        try:
            outcome: EventEnvelope | RejectedEvent = await tracker.hit(
                ctx,
                event_type="view",
                source=Source.PIXEL,
                asset_id=asset_id,
                viewer_id=params.get("viewer") or None,
                page=_page(params.get("page")),
            )
        except (ValueError, ValidationError) as exc:
            outcome = tracker.reject(
                RejectReason.INVALID, _short_error(exc), asset_id, Source.PIXEL, dict(params)
            )
        await tracker.publish([outcome])
    except Exception:  # noqa: BLE001 - the pixel must answer whatever happens behind it
        metrics.PUBLISH_FAILURES.labels("pixel").inc()
        log.exception("pixel hit not recorded")
    return Response(TRANSPARENT_GIF, media_type="image/gif", headers=_NO_STORE)


@router.get("/t.js")
async def tracker_script() -> Response:
    return Response(
        _TRACKER_JS,
        media_type="application/javascript",
        headers={"Cache-Control": "public, max-age=3600"},
    )


@router.get("/d/{asset_id}")
async def download(asset_id: str, request: Request) -> Response:
    """Record a download, then send the browser on to the asset's file."""
    tracker = _tracker(request)
    url = await tracker.catalog.url_for(asset_id)
    try:
        outcome = await tracker.hit(
            _context(request),
            event_type="download",
            source=Source.LINK,
            asset_id=asset_id,
            viewer_id=request.query_params.get("viewer") or None,
        )
        await tracker.publish([outcome])
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
             "errors": [_short_error(exc)]},
            status_code=422,
        )
    tracker = _tracker(request)
    ctx = _context(request)
    outcomes, errors = await _build_batch(tracker, ctx, batch.events)
    if errors:
        for error in errors:
            metrics.EVENTS_REJECTED.labels(error["reason"]).inc()
        return JSONResponse(
            {"detail": f"{len(errors)} of {len(batch.events)} events are invalid; none were accepted",
             "errors": errors},
            status_code=422,
        )
    try:
        await tracker.publish(outcomes)
    except Exception:  # noqa: BLE001
        metrics.PUBLISH_FAILURES.labels("events").inc()
        log.exception("event batch not acknowledged by the broker",
                      extra={"event_ids": [str(o.event_id) for o in outcomes[:100]]})
        return JSONResponse(
            {"detail": "the event broker did not acknowledge the events; retry with the same event_ids"},
            status_code=503,
        )
    accepted = sum(isinstance(o, EventEnvelope) for o in outcomes)
    return JSONResponse(
        {"accepted": accepted, "filtered_as_bot": len(outcomes) - accepted}, status_code=202
    )


async def _build_batch(
    tracker: Tracker, ctx: HitContext, items: list[dict[str, Any]]
) -> tuple[list[EventEnvelope | RejectedEvent], list[dict[str, Any]]]:
    outcomes: list[EventEnvelope | RejectedEvent] = []
    errors: list[dict[str, Any]] = []
    for index, raw in enumerate(items):
        try:
            item = EventIn.model_validate(raw)
        except ValidationError as exc:
            errors.append({"index": index, "reason": RejectReason.INVALID.value,
                           "message": _short_error(exc)})
            continue
        occurred_at = item.occurred_at or ctx.now
        time_problem = check_event_time(occurred_at, ctx.now)
        if time_problem:
            errors.append({"index": index, "reason": RejectReason.INVALID.value,
                           "message": time_problem})
            continue
        if await tracker.catalog.url_for(item.asset_id) is None:
            errors.append({"index": index, "reason": RejectReason.UNKNOWN_ASSET.value,
                           "message": f"unknown asset {item.asset_id!r}"})
            continue
        user_agent = item.user_agent if item.user_agent is not None else ctx.user_agent
        device = tracker.device(ctx, user_agent)
        if device.device_class is DeviceClass.BOT:
            outcomes.append(tracker.reject(RejectReason.BOT, device.browser or "bot",
                                           item.asset_id, Source(item.source),
                                           item.model_dump(mode="json", exclude_none=True,
                                                           exclude={"user_agent"})))
            continue
        outcomes.append(
            EventEnvelope(
                **({"event_id": item.event_id} if item.event_id else {}),
                type=item.type,
                asset_id=item.asset_id,
                viewer_id=await tracker.viewer(ctx, item.viewer_id, user_agent),
                occurred_at=occurred_at,
                received_at=ctx.now,
                device=device,
                page=item.page,
                referrer_host=referrer_host(item.referrer),
                source=Source(item.source),
                view_id=item.view_id,
                engaged_ms=item.engaged_ms,
                wall_ms=item.wall_ms,
            )
        )
    return outcomes, errors


def _too_large(limit: int) -> Response:
    metrics.EVENTS_REJECTED.labels("too_large").inc()
    return JSONResponse({"detail": f"body larger than {limit} bytes"}, status_code=413)


def _short_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return describe_errors(exc)[:500]
    return str(exc)[:500]
