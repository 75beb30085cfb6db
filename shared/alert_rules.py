"""The alert rules' parameters: the global defaults (ALERT_* settings) and each owner's
overrides. Shared because the ratings app validates and shows the same rules the notifier
applies; the rules themselves (pure evaluation) live in the notifier.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .scores import SCORE_WINDOWS
from .settings import ServiceSettings

__all__ = [
    "RULES",
    "RULE_LABELS",
    "EngagementCollapse",
    "LowRatingComment",
    "RatingBelow",
    "RuleSet",
    "ScoreDrop",
    "Window",
    "RULE_VARIABLES",
    "rule_variables",
    "AlertRuleSettings",
    "rules_from_variables",
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
    # Hot-engagement alerts to a share link's creator (services/notifier/link_alerts.py):
    # no parameters here, each rep sets theirs in share_alert_preferences.
    "link_first_open": "Link opened",
    "link_reopen": "Link opened again",
    "link_forward": "Link forwarded",
    "link_long_read": "Long read",
}


@dataclass(frozen=True)
class RuleSet:
    rating_below: RatingBelow = field(default_factory=RatingBelow)
    score_drop: ScoreDrop = field(default_factory=ScoreDrop)
    low_rating_comment: LowRatingComment = field(default_factory=LowRatingComment)
    engagement_collapse: EngagementCollapse = field(default_factory=EngagementCollapse)

    def get(self, rule: str) -> Any:
        return getattr(self, rule)


#: Where each ALERT_* variable lands: a field of one rule, or a field every level rule shares.
#: The rule models hold the defaults and bounds, so nothing here repeats them.
RULE_VARIABLES: dict[str, tuple[str, ...]] = {
    "ALERT_WINDOW": ("rating_below.window", "score_drop.window"),
    "ALERT_COOLDOWN_HOURS": ("rating_below.cooldown_hours", "score_drop.cooldown_hours",
                             "engagement_collapse.cooldown_hours"),
    "ALERT_CONFIRM_MINUTES": ("rating_below.confirm_minutes", "score_drop.confirm_minutes",
                              "engagement_collapse.confirm_minutes"),
    "ALERT_RATING_THRESHOLD": ("rating_below.threshold",),
    "ALERT_RATING_REARM_MARGIN": ("rating_below.rearm_margin",),
    "ALERT_RATING_MIN_RATINGS": ("rating_below.min_ratings",),
    "ALERT_SCORE_DROP_POINTS": ("score_drop.points",),
    "ALERT_SCORE_REARM_POINTS": ("score_drop.rearm_points",),
    "ALERT_SCORE_MIN_RATINGS": ("score_drop.min_ratings",),
    "ALERT_SCORE_MIN_VIEWS": ("score_drop.min_views",),
    "ALERT_COMMENT_MAX_STARS": ("low_rating_comment.max_stars",),
    "ALERT_COMMENT_MAX_AGE_HOURS": ("low_rating_comment.max_age_hours",),
    "ALERT_COMMENT_COOLDOWN_MINUTES": ("low_rating_comment.cooldown_minutes",),
    "ALERT_COLLAPSE_PERCENT": ("engagement_collapse.percent",),
    "ALERT_COLLAPSE_REARM_PERCENT": ("engagement_collapse.rearm_percent",),
    "ALERT_COLLAPSE_MIN_WEEKLY_VIEWS": ("engagement_collapse.min_weekly_views",),
}


def rules_from_variables(variables: Mapping[str, Any]) -> RuleSet:
    """The global defaults: the rule models' own defaults, with the ALERT_* variables set
    (names in any case) laid over them. ValueError names the variable that does not fit."""
    given = {name.upper(): value for name, value in variables.items()}
    window = given.get("ALERT_WINDOW", "30d")
    if window not in SCORE_WINDOWS:
        raise ValueError(f"ALERT_WINDOW must be one of {', '.join(SCORE_WINDOWS)}, not {window!r}")
    fields: dict[str, dict[str, Any]] = {rule: {} for rule in RULES}
    for name, targets in RULE_VARIABLES.items():
        if name in given:
            for target in targets:
                rule, _, field_name = target.partition(".")
                fields[rule][field_name] = given[name]
    built: dict[str, Any] = {}
    for rule, values in fields.items():
        try:
            built[rule] = RULES[rule].model_validate(values)
        except ValidationError as exc:
            error = exc.errors()[0]
            target = f"{rule}.{error['loc'][0]}"
            name = next(n for n, t in RULE_VARIABLES.items() if target in t)
            raise ValueError(f"{name}: {error['msg']}") from exc
    return RuleSet(**built)


class AlertRuleSettings(ServiceSettings):
    """The global rule defaults (ALERT_* variables, docs/alerts.md) and the digest hour: the
    notifier applies them, the ratings app shows them beside each owner's overrides."""

    alert_rules: RuleSet = Field(default_factory=RuleSet)
    #: UTC hour at which daily digests go out.
    alert_digest_hour: int = Field(8, ge=0, le=23, alias="ALERT_DIGEST_HOUR")

    @model_validator(mode="before")
    @classmethod
    def _rules_from_alert_variables(cls, data: Any) -> Any:
        """ALERT_* from the environment, then a given ``alert_rules``, then ALERT_* keyword
        arguments: the later win, as in every pydantic-settings source order."""
        if not isinstance(data, dict):
            return data
        flat = {k.upper(): v for k, v in data.items() if k.upper() in RULE_VARIABLES}
        if "alert_rules" in data and not flat:
            return data
        given = {k: v for k, v in os.environ.items() if k in RULE_VARIABLES}
        if "alert_rules" in data:
            given |= rule_variables(data["alert_rules"])
        return {**data, "alert_rules": rules_from_variables(given | flat)}


def rule_variables(rules: RuleSet | Mapping[str, Any]) -> dict[str, Any]:
    """The ALERT_* values that give ``rules`` (a RuleSet or its dump)."""
    fields = rules if isinstance(rules, Mapping) else {
        name: rules.get(name).model_dump() for name in RULES}
    variables = {}
    for name, targets in RULE_VARIABLES.items():
        rule, _, field_name = targets[0].partition(".")
        variables[name] = fields[rule][field_name]
    return variables


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
