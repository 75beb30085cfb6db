"""``GET /v1/assets/{id}/score``: count, mean, Bayesian average and histogram per window."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request

from shared.rating_math import Histogram, Score, score

from . import score_repo
from .auth import current_user
from .usage import window_start
from .users import User

__all__ = ["SCORE_WINDOWS", "router", "score_json"]

router = APIRouter()

SCORE_WINDOWS = ("7d", "30d", "90d", "all")
#: Enough to check by hand and to tell two close assets apart.
DECIMALS = 4


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, DECIMALS)


def score_json(s: Score, since: date | None) -> dict[str, Any]:
    return {
        "since": since.isoformat() if since else None,
        "count": s.count,
        "mean": _round(s.mean),
        "bayesian_average": _round(s.bayesian_average),
        "histogram": s.histogram.as_json(),
        "prior": {"mean": _round(s.prior.mean), "weight": s.prior.weight},
    }


@router.get("/v1/assets/{asset_id}/score")
async def asset_score(
    asset_id: str, request: Request, user: User = Depends(current_user)
) -> dict[str, Any]:
    """Ratings given (in their current version) on a UTC day inside each window."""
    today = datetime.now(timezone.utc).date()
    starts = {window: window_start(window, today) for window in SCORE_WINDOWS}
    counts = await score_repo.fetch_window_counts(request.app.state.pool, asset_id, starts)
    if counts is None:
        raise HTTPException(404, f"unknown asset {asset_id!r}")
    weight = request.app.state.settings.rating_prior_weight
    return {
        "asset_id": asset_id,
        "as_of": today.isoformat(),
        "windows": {
            window: score_json(
                score(Histogram.of(counts[window].asset), Histogram.of(counts[window].catalog),
                      weight),
                starts[window],
            )
            for window in SCORE_WINDOWS
        },
    }
