"""Alerts in the ratings app: the owner's inbox API, how they hear about alerts, and their
own rule settings over the global defaults (docs/alerts.md).

The notifier decides and delivers alerts; this router only reads them (reads/notifier.py),
marks them read (in ratings' own alert_reads) and stores preferences and overrides, validated
with the rules and URL checks shared with the notifier. Signed-in users only.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from shared.alert_rules import RULE_LABELS, RULES, RuleSet, with_overrides
from shared.web.params import BIGINT_MAX, RowId
from shared.webhooks import master_secret, receiver_secret, resolve_target, validate_webhook_url

from ..identity.auth import current_user
from ..identity.models import Role, User
from ..reads.notifier import alert_owner, list_alerts, unread_alert_ids, unread_count
from . import store
from .models import PreferencesIn

__all__ = ["router"]

router = APIRouter(dependencies=[Depends(current_user)])


def _alert_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"], "asset_id": row["asset_id"], "title": row["title"],
        "asset_url": f"/assets/{row['asset_id']}", "rule": row["rule"],
        "rule_label": RULE_LABELS.get(row["rule"], row["rule"]), "episode": row["episode"],
        "owner_email": row["owner_email"], "summary": row["summary"],
        "details": row["details"], "fired_at": row["fired_at"].isoformat(),
        "read_at": row["read_at"].isoformat() if row["read_at"] else None,
        "deliveries": row["deliveries"],
    }


@router.get("/v1/alerts")
async def alerts(
    request: Request, user: User = Depends(current_user),
    all: bool = Query(False, description="Everyone's alerts (admins only)"),
    unread: bool = Query(False, description="Only alerts not marked read"),
    before: int | None = Query(None, ge=1, le=BIGINT_MAX,
                               description="Older than this alert id (paging)"),
    limit: int = Query(50, ge=1, le=200),
) -> dict[str, Any]:
    """My alerts (the assets I own), newest first, with how each was delivered."""
    if all and user.role is not Role.ADMIN:
        raise HTTPException(403, "only admins may list everyone's alerts")
    pool = request.app.state.pool
    rows = await list_alerts(pool, None if all else user.email, unread_only=unread,
                             before_id=before, limit=limit)
    return {
        "alerts": [_alert_json(r) for r in rows],
        "unread": await unread_count(pool, user.email, user.id),
        "next_before": rows[-1]["id"] if len(rows) == limit else None,
    }


@router.post("/v1/alerts/{alert_id}/read", status_code=204)
async def mark_read(alert_id: RowId, request: Request,
                    user: User = Depends(current_user)) -> Response:
    pool = request.app.state.pool
    owner = await alert_owner(pool, alert_id)
    if owner is None:
        raise HTTPException(404, f"no alert {alert_id}")
    if owner.lower() != user.email.lower():
        raise HTTPException(403, "only the asset's owner marks its alerts read")
    await store.mark_read(pool, alert_id, user.id)
    return Response(status_code=204)


@router.post("/v1/alerts/read-all")
async def mark_all_read(request: Request, user: User = Depends(current_user)) -> dict[str, int]:
    pool = request.app.state.pool
    unread = await unread_alert_ids(pool, user.email, user.id)
    return {"marked": await store.mark_many_read(pool, unread, user.id)}


# --- preferences -------------------------------------------------------------------------------

def _production(request: Request) -> bool:
    settings = getattr(request.app.state, "settings", None)
    return settings is not None and settings.env == "production"


@router.get("/v1/me/alert-preferences")
async def get_preferences(request: Request, user: User = Depends(current_user)) -> dict[str, Any]:
    prefs = await store.fetch_preferences(request.app.state.pool, user.id)
    return {**prefs, "digest_hour_utc": request.app.state.settings.alert_digest_hour}


#: How long registering a webhook waits for its host to resolve (production).
RESOLVE_TIMEOUT_SECONDS = 5.0


async def _checked_url(request: Request, url: str) -> str:
    """The URL if the notifier will call it: in production its host must also resolve, to
    public addresses only (the notifier checks again when it sends). Else 422."""
    try:
        if _production(request):
            target = await resolve_target(url, production=True, timeout=RESOLVE_TIMEOUT_SECONDS)
            return target.url
        return validate_webhook_url(url, production=False)
    except ValueError as exc:
        problem = str(exc)
    except OSError as exc:
        problem = f"the webhook URL's host does not resolve ({exc.strerror or type(exc).__name__})"
    raise RequestValidationError([{
        "type": "value_error", "loc": ("body", "webhook_url"), "msg": problem, "input": url}])


def _master_secret(request: Request) -> str:
    """WEBHOOK_SIGNING_SECRET, which every receiver's secret derives from; 503 in
    production without a usable one (the notifier does not start without it either)."""
    settings = request.app.state.settings
    try:
        return master_secret(settings.webhook_signing_secret.get_secret_value(),
                             production=_production(request))
    except ValueError as exc:
        raise HTTPException(503, f"webhooks cannot be signed on this server: {exc}") from exc


@router.put("/v1/me/alert-preferences")
async def put_preferences(body: PreferencesIn, request: Request,
                          user: User = Depends(current_user)) -> dict[str, Any]:
    """Choose channels and timing. A webhook URL that cannot work is refused with 422. A new
    webhook URL gets its own signing secret, in this answer only (``webhook_secret``)."""
    url = body.webhook_url
    if url is not None and url.strip() == "":
        url = None
    master = None
    if url is not None:
        url = await _checked_url(request, url)
        master = _master_secret(request)
    key_id = await store.save_preferences(request.app.state.pool, user.id, body.email, url,
                                          body.mode)
    answer = await get_preferences(request, user)
    if key_id is not None and master is not None:
        answer["webhook_secret"] = receiver_secret(master, key_id)
    return answer


@router.post("/v1/me/alert-preferences/webhook-secret")
async def rotate_webhook_secret(request: Request,
                                user: User = Depends(current_user)) -> dict[str, str]:
    """A new signing secret for my webhook, in this answer only; the old one stops working
    at once (also for alerts already waiting to be sent)."""
    master = _master_secret(request)
    key_id = await store.rotate_webhook_key(request.app.state.pool, user.id)
    if key_id is None:
        raise HTTPException(409, "set a webhook URL first")
    return {"webhook_secret": receiver_secret(master, key_id)}


# --- rule overrides ------------------------------------------------------------------------------

def _defaults(request: Request) -> RuleSet:
    return request.app.state.settings.alert_rules  # type: ignore[no-any-return]


async def _rules_json(request: Request, user: User) -> dict[str, Any]:
    defaults = _defaults(request)
    overrides = await store.fetch_overrides(request.app.state.pool, user.id)
    effective = with_overrides(defaults, overrides)
    return {"rules": {
        rule: {"label": RULE_LABELS[rule], "defaults": defaults.get(rule).model_dump(),
               "overrides": overrides.get(rule, {}), "effective": effective.get(rule).model_dump()}
        for rule in RULES
    }}


@router.get("/v1/me/alert-rules")
async def get_rules(request: Request, user: User = Depends(current_user)) -> dict[str, Any]:
    """Each rule's global defaults, my overrides, and what applies to my assets."""
    return await _rules_json(request, user)


@router.put("/v1/me/alert-rules/{rule}")
async def put_rule(rule: str, body: dict[str, Any], request: Request,
                   user: User = Depends(current_user)) -> dict[str, Any]:
    """Override some fields of one rule for my assets, e.g. ``{"threshold": 3.5}``; the
    fields not named keep following the global defaults."""
    model = RULES.get(rule)
    if model is None:
        raise HTTPException(404, f"no rule {rule!r}; rules: {', '.join(RULES)}")
    pool = request.app.state.pool
    overrides = {**(await store.fetch_overrides(pool, user.id)).get(rule, {}), **body}
    try:
        model.model_validate({**_defaults(request).get(rule).model_dump(), **overrides})
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from exc
    await store.save_override(pool, user.id, rule, overrides)
    return (await _rules_json(request, user))["rules"][rule]  # type: ignore[no-any-return]


@router.delete("/v1/me/alert-rules/{rule}", status_code=204)
async def delete_rule(rule: str, request: Request,
                      user: User = Depends(current_user)) -> Response:
    """Back to the global defaults for this rule."""
    if rule not in RULES:
        raise HTTPException(404, f"no rule {rule!r}; rules: {', '.join(RULES)}")
    await store.delete_override(request.app.state.pool, user.id, rule)
    return Response(status_code=204)
