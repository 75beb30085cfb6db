"""The alert rules' parameters: the global defaults (ALERT_* settings) and each owner's
overrides. Shared because the ratings app validates and shows the same rules the notifier
applies; the rules themselves (pure evaluation) live in the notifier.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .settings import Settings

__all__ = [
    "RULES",
    "RULE_LABELS",
    "EngagementCollapse",
    "LowRatingComment",
    "RatingBelow",
    "RuleSet",
    "ScoreDrop",
    "Window",
    "defaults_from",
    "with_overrides",
]

Window = Literal["7d", "30d", "90d", "120d"]


class _Params(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    enabled: bool = Field(True, description="Off: the rule never fires for this owner")


class RatingBelow(_Params):
    """The Bayesian rating of a window falls below a threshold."""

    threshold: float = Field(3.0, ge=1, le=5, description="Stars; fires below it")
    rearm_margin: float = Field(0.25, ge=0, le=2, description="Re-arms at threshold + this")
    min_ratings: int = Field(5, ge=1, le=100_000, description="Ratings in the window, at least")
    window: Window = "30d"
    cooldown_hours: float = Field(24.0, ge=0, le=24 * 90)
    confirm_minutes: float = Field(10.0, ge=0, le=24 * 60)


class ScoreDrop(_Params):
    """The content score fell by at least ``points`` against the previous period."""

    points: int = Field(10, ge=1, le=100, description="Fall in score points that fires")
    rearm_points: int = Field(5, ge=0, le=100, description="Re-arms when the fall is back "
                              "to points - rearm_points or less")
    min_ratings: int = Field(5, ge=1, le=100_000, description="Per period, for the rating test")
    min_views: int = Field(50, ge=1, le=10_000_000, description="Previous period's views, "
                           "for the views test")
    window: Window = "30d"
    cooldown_hours: float = Field(24.0, ge=0, le=24 * 90)
    confirm_minutes: float = Field(10.0, ge=0, le=24 * 60)


class LowRatingComment(_Params):
    """A new rating of ``max_stars`` or fewer, with a comment."""

    max_stars: int = Field(2, ge=1, le=4)
    max_age_hours: float = Field(12.0, gt=0, le=24 * 30, description="Older ratings are "
                                 "history (a replay, a long outage), not news")
    cooldown_minutes: float = Field(60.0, ge=1, le=24 * 60 * 7)


class EngagementCollapse(_Params):
    """This week's views at or below ``percent`` of the 4 weeks before, on average."""

    percent: float = Field(50.0, gt=0, lt=100)
    rearm_percent: float = Field(15.0, ge=0, le=100, description="Re-arms at percent + this")
    min_weekly_views: int = Field(20, ge=1, le=10_000_000, description="Trailing weekly "
                                  "average, at least")
    cooldown_hours: float = Field(24.0, ge=0, le=24 * 90)
    confirm_minutes: float = Field(10.0, ge=0, le=24 * 60)


RULES: dict[str, type[_Params]] = {
    "rating_below": RatingBelow,
    "score_drop": ScoreDrop,
    "low_rating_comment": LowRatingComment,
    "engagement_collapse": EngagementCollapse,
}
RULE_LABELS = {
    "rating_below": "Rating below threshold",
    "score_drop": "Score drop",
    "low_rating_comment": "Low rating with a comment",
    "engagement_collapse": "Engagement collapse",
}


@dataclass(frozen=True)
class RuleSet:
    rating_below: RatingBelow = field(default_factory=RatingBelow)
    score_drop: ScoreDrop = field(default_factory=ScoreDrop)
    low_rating_comment: LowRatingComment = field(default_factory=LowRatingComment)
    engagement_collapse: EngagementCollapse = field(default_factory=EngagementCollapse)

    def get(self, rule: str) -> Any:
        return getattr(self, rule)


def defaults_from(settings: Settings) -> RuleSet:
    """The global defaults, from the ALERT_* settings."""
    window: Any = settings.alert_window
    cooldown = settings.alert_cooldown_hours
    confirm = settings.alert_confirm_minutes
    return RuleSet(
        rating_below=RatingBelow(
            threshold=settings.alert_rating_threshold,
            rearm_margin=settings.alert_rating_rearm_margin,
            min_ratings=settings.alert_rating_min_ratings, window=window,
            cooldown_hours=cooldown, confirm_minutes=confirm),
        score_drop=ScoreDrop(
            points=settings.alert_score_drop_points,
            rearm_points=settings.alert_score_rearm_points,
            min_ratings=settings.alert_score_min_ratings,
            min_views=settings.alert_score_min_views, window=window,
            cooldown_hours=cooldown, confirm_minutes=confirm),
        low_rating_comment=LowRatingComment(
            max_stars=settings.alert_comment_max_stars,
            max_age_hours=settings.alert_comment_max_age_hours,
            cooldown_minutes=settings.alert_comment_cooldown_minutes),
        engagement_collapse=EngagementCollapse(
            percent=settings.alert_collapse_percent,
            rearm_percent=settings.alert_collapse_rearm_percent,
            min_weekly_views=settings.alert_collapse_min_weekly_views,
            cooldown_hours=cooldown, confirm_minutes=confirm),
    )


def with_overrides(defaults: RuleSet, overrides: Mapping[str, Mapping[str, Any]]) -> RuleSet:
    """An owner's rules: their stored fields over the defaults. A stored override that no
    longer validates (bounds changed since) is ignored, so the defaults apply."""
    changed: dict[str, Any] = {}
    for rule, fields in overrides.items():
        model = RULES.get(rule)
        if model is None:
            continue
        try:
            changed[rule] = model.model_validate({**defaults.get(rule).model_dump(), **fields})
        except ValidationError:
            continue
    return replace(defaults, **changed)
