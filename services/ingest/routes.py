"""Ingest's HTTP edge: pixel, script, download redirect and batch event API."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import ValidationError

from shared.events import EventEnvelope, RejectedEvent, RejectReason, Source, utcnow

from . import deps, metrics
from .enrich import tracking_refused
from .incoming import EventBatchIn, EventIn
from .keys import WRITE_SCOPE, Key, KeyRefusal, key_from_header
from .pipeline import Drop, Hit, Sender, invalid, rejection, short_error
from .throttle import Bucket, client_key
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
        play_id=item.play_id,
        media_ms=item.media_ms,
        duration_ms=item.duration_ms,
        watched=item.watched,
        payload=item,
    )


def _page(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    page = int(raw)
    if not 1 <= page <= 10_000:
        raise ValueError("page must be between 1 and 10000")
    return page


_LimitedHit = tuple[str | None, Source | None, dict[str, Any]]


class Limited(NamedTuple):
    """A request over a limit: the seconds to wait (``Retry-After``) and which limit."""

    seconds: int
    bucket: Bucket


async def _client(request: Request) -> str:
    salt = await deps.pipeline(request).salts.for_day(utcnow().date())
    return client_key(salt, request.client.host if request.client else "")


def _views_per_asset(hits: Iterable[_LimitedHit]) -> dict[str, int]:
    """How many views and downloads each asset gets from these hits (the asset limit)."""
    counts: dict[str, int] = {}
    for asset_id, _, payload in hits:
        kind = payload.get("type") if isinstance(payload, Mapping) else None
        if asset_id and kind in ("view", "download"):
            counts[asset_id] = counts.get(asset_id, 0) + 1
    return counts


async def _over_limit(
    request: Request, bucket: Bucket, who: str | None, cost: int,
    hits: Callable[[], Iterable[_LimitedHit]],
) -> Limited | None:
    """Spend ``cost`` of ``who``'s ``bucket`` (the client's when ``who`` is None), and on
    keyless paths the client's limit per asset for each asset's views and downloads. Over
    a limit: which, and the seconds to wait; each hit counted as ``rate_limited`` in the
    metrics and, up to a cap a second, kept on ``events-rejected``; the client is not kept
    waiting for that."""
    who = who or await _client(request)
    throttle = deps.throttle(request)
    retry = await throttle.retry_after(bucket, who, cost)
    if retry is None and bucket is not Bucket.API_KEY:
        for asset, n in _views_per_asset(hits()).items():
            retry = await throttle.retry_after(Bucket.ASSET, f"{who}:{asset}", n)
            if retry is not None:
                bucket = Bucket.ASSET
                break
    if retry is None:
        return None
    metrics.RATE_LIMITED.labels(bucket.value).inc(cost)
    metrics.EVENTS_REJECTED.labels(RejectReason.RATE_LIMITED.value).inc(cost)
    records: list[RejectedEvent] = []
    for asset_id, source, payload in hits():
        if not await throttle.may_record():
            break
        records.append(rejection(RejectReason.RATE_LIMITED, f"over the {bucket.value} limit",
                                 asset_id, source, payload))
    deps.publisher(request).reject_later(records)
    return Limited(retry, bucket)


def _link_payload(event_type: str, asset_id: str, page: str | None) -> dict[str, object]:
    return {"type": event_type, "asset_id": asset_id, "page": page}


@router.api_route("/px.gif", methods=["GET", "HEAD"])
async def pixel(request: Request) -> Response:
    """Record a view. Always the GIF, never an error: a broken image in an email is worse
    than a lost hit. Over the client's limit: 429 with ``Retry-After`` (and the GIF).
    HEAD is answered alike and never counts: link checkers and scanners send it."""
    params = request.query_params
    if request.method == "HEAD":
        return _gif()
    try:
        asset_id = params.get("asset", "")
        limited = await _over_limit(request, Bucket.PIXEL, None, 1, lambda: [
            (asset_id, Source.PIXEL, _link_payload("view", asset_id, params.get("page")))])
        if limited is not None:
            return _gif(429, {"Retry-After": str(limited.seconds)})
        try:
            hit = _link_hit(request, "view", Source.PIXEL, asset_id, _page(params.get("page")))
            decided: EventEnvelope | Drop = await deps.pipeline(request).decide(hit)
        except (ValueError, ValidationError) as exc:
            decided = invalid(short_error(exc), asset_id, Source.PIXEL, dict(params))
        await deps.publisher(request).publish([decided])
    except Exception:  # noqa: BLE001 - the pixel must answer whatever happens behind it
        metrics.PUBLISH_FAILURES.labels("pixel").inc()
        log.exception("pixel hit not recorded")
    return _gif()


def _gif(status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(TRANSPARENT_GIF, status_code=status, media_type="image/gif",
                    headers={**_NO_STORE, **(headers or {})})


@router.get("/t.js")
async def tracker_script(request: Request) -> Response:
    """The page script, at the fixed URL customers paste into their pages."""
    return STATIC.response(request, "t.js")


@router.api_route("/d/{asset_id}", methods=["GET", "HEAD"])
async def download(asset_id: str, request: Request) -> Response:
    """Record a download, then send the browser on to the asset's file. Over the client's
    limit the reader still gets the file, and the hit counts as ``rate_limited``. HEAD
    gets the same answer and never counts."""
    pipeline = deps.pipeline(request)
    url = await pipeline.catalog.url_for(asset_id)
    try:
        if request.method != "HEAD" and await _over_limit(
            request, Bucket.PIXEL, None, 1,
            lambda: [(asset_id, Source.LINK, _link_payload("download", asset_id, None))],
        ) is None:
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
    CORS preflight. ``source=api`` and the ``user_agent``/``viewer_id`` overrides need an
    ingest key (401/403); limits are per key with one, else per client (429)."""
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
    refused = await _authorize(request, batch.events)
    if isinstance(refused, Response):
        return refused
    bucket, who = (Bucket.API_KEY, f"key:{refused.id}") if refused else (Bucket.BEACON, None)
    limited = await _over_limit(request, bucket, who, max(1, len(batch.events)), lambda: (
        (str(raw.get("asset_id", ""))[:200], None, raw) if isinstance(raw, dict) else
        (None, None, {}) for raw in batch.events))
    if limited is not None:
        retry = limited.seconds
        return JSONResponse(
            {"detail": f"over the {limited.bucket.value} rate limit; retry in {retry} s",
             "reason": RejectReason.RATE_LIMITED.value, "limit": limited.bucket.value,
             "retry_after": retry},
            status_code=429, headers={"Retry-After": str(retry)},
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
    bots = sum(isinstance(d, Drop) and d.reason is RejectReason.BOT for d in decided)
    return JSONResponse({"accepted": accepted, "filtered_as_bot": bots,
                         "filtered_as_suspect": len(decided) - accepted - bots},
                        status_code=202)


#: What only a server-side integration may set: the page script sends none of them.
_KEYED_FIELDS = ("user_agent", "viewer_id")


def _needs_key(raw: dict[str, Any]) -> list[str]:
    """The fields of one raw item that need an ingest key (``source`` defaults to api)."""
    fields = [f for f in _KEYED_FIELDS if raw.get(f) is not None]
    if raw.get("source", "api") == "api":
        fields.insert(0, "source=api")
    return fields


async def _authorize(request: Request, items: list[dict[str, Any]]) -> Key | None | Response:
    """The request's ingest key (None: no key, and no item needs one), or its 401/403."""
    token = key_from_header(request.headers.get("authorization"))
    if token is None:
        errors = [{"index": i, "fields": fields} for i, raw in enumerate(items)
                  if isinstance(raw, dict) and (fields := _needs_key(raw))]
        if not errors:
            return None
        return _refuse(KeyRefusal.MISSING, len(items),
                       "source=api, user_agent and viewer_id need an ingest key "
                       "(Authorization: Bearer gbk_...); the page script sends none of them",
                       errors[:100])
    key = deps.keys(request).find(token)
    if key is KeyRefusal.UNKNOWN:
        return _refuse(key, len(items), "unknown ingest key")
    if key is KeyRefusal.REVOKED:
        return _refuse(key, len(items), "this ingest key was revoked")
    assert isinstance(key, Key)
    if WRITE_SCOPE not in key.scopes:
        return _refuse(KeyRefusal.OUT_OF_SCOPE, len(items),
                       f"this ingest key lacks the {WRITE_SCOPE} scope")
    if key.asset_ids is not None:
        errors = [{"index": i, "asset_id": raw.get("asset_id")} for i, raw in enumerate(items)
                  if isinstance(raw, dict) and raw.get("asset_id") not in key.asset_ids]
        if errors:
            return _refuse(KeyRefusal.OUT_OF_SCOPE, len(items),
                           "this ingest key may not send events for these assets", errors[:100])
    return key


def _refuse(reason: KeyRefusal, events: int, detail: str,
            errors: list[dict[str, Any]] | None = None) -> Response:
    metrics.EVENTS_REJECTED.labels(reason.value).inc(max(1, events))
    body: dict[str, Any] = {"detail": detail, "reason": reason.value}
    if errors:
        body["errors"] = errors
    headers = {"WWW-Authenticate": "Bearer"} if reason.status == 401 else None
    return JSONResponse(body, status_code=reason.status, headers=headers)


#: Drops that are the hit's nature, not the client's error: kept on ``events-rejected``,
#: and the batch is accepted.
_FILTERED = frozenset({RejectReason.BOT, RejectReason.SUSPECT, RejectReason.MACHINE_OPEN})


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
        if isinstance(outcome, Drop) and outcome.reason not in _FILTERED:
            errors.append({"index": index, "reason": outcome.reason.value,
                           "message": outcome.message})
            continue
        decided.append(outcome)
    return decided, errors


def _too_large(limit: int) -> Response:
    metrics.EVENTS_REJECTED.labels("too_large").inc()
    return JSONResponse({"detail": f"body larger than {limit} bytes"}, status_code=413)
