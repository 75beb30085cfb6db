"""The alert rules: what counts as a drop, and when a rule may speak again. Pure: no IO, no
clock (``now`` goes in), no logging. docs/alerts.md works every rule through by hand.

Each level rule reads one asset-scores state and returns a ``Finding``:
- ``holds``: the condition is met AND there is enough data AND the 95% interval of the
  recent figure lies wholly below the baseline's (noise never pages anyone);
- ``recovered``: the figure is back past the threshold plus the re-arm margin.
``step`` turns findings into the rule's state machine (armed -> pending -> firing ->
armed), with a confirmation delay, hysteresis and a cooldown; each firing starts a new
episode, and (asset, rule, episode) is the alert's key. The comment rule is an event
rule: ``step_event`` applies its cooldown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from shared.alert_rules import (
    EngagementCollapse,
    LowRatingComment,
    RatingBelow,
    RuleSet,
    ScoreDrop,
)
from shared.events import EventEnvelope
from shared.scores import AssetScoreUpdate, WindowScore

from .stats import mean_stars_upper, poisson_interval, wilson_interval

__all__ = [
    "AlertDraft",
    "Finding",
    "Outcome",
    "RuleState",
    "check_engagement_collapse",
    "check_rating_below",
    "check_score_drop",
    "comment_matches",
    "evaluate_rating_event",
    "evaluate_scores",
    "step",
    "step_event",
]

Status = Literal["armed", "pending", "firing"]


# --- state machine -------------------------------------------------------------------------

@dataclass(frozen=True)
class RuleState:
    status: Status = "armed"
    episode: int = 0
    pending_since: datetime | None = None
    last_fired_at: datetime | None = None
    #: Event rule: matches swallowed by the cooldown since the last alert.
    suppressed: int = 0
    #: Event rule: the last event seen, so a re-sent copy is not counted twice.
    last_source: str | None = None


@dataclass(frozen=True)
class Finding:
    holds: bool
    recovered: bool
    summary: str = ""
    figures: dict[str, Any] = field(default_factory=dict)


def step(
    state: RuleState, finding: Finding, now: datetime, *, confirm: timedelta,
    cooldown: timedelta,
) -> tuple[RuleState, bool]:
    """The next state, and whether this step fires a new episode.

    - firing stays firing until ``recovered`` (hysteresis: one alert per excursion);
    - a condition that stops holding before it fired just re-arms;
    - it fires once it has held for ``confirm`` and ``cooldown`` has passed since the last
      episode; until then it is pending.
    """
    if state.status == "firing":
        if finding.recovered:
            return replace(state, status="armed", pending_since=None), False
        return state, False
    if not finding.holds:
        if state.status == "pending":
            return replace(state, status="armed", pending_since=None), False
        return state, False
    since = state.pending_since if state.status == "pending" and state.pending_since else now
    confirmed = now - since >= confirm
    cooled = state.last_fired_at is None or now - state.last_fired_at >= cooldown
    if confirmed and cooled:
        return replace(state, status="firing", episode=state.episode + 1, pending_since=None,
                       last_fired_at=now, suppressed=0), True
    return replace(state, status="pending", pending_since=since), False


def step_event(
    state: RuleState, source: str, now: datetime, *, cooldown: timedelta
) -> tuple[RuleState, bool]:
    """An event rule: every match fires a new episode, except within ``cooldown`` of the
    last one (then it is counted in ``suppressed``); the same event twice counts once."""
    if state.last_source == source:
        return state, False
    if state.last_fired_at is None or now - state.last_fired_at >= cooldown:
        return replace(state, status="armed", episode=state.episode + 1, last_fired_at=now,
                       suppressed=0, last_source=source), True
    return replace(state, suppressed=state.suppressed + 1, last_source=source), False


# --- the level rules -------------------------------------------------------------------------

def _days(window: str) -> str:
    return window.removesuffix("d") + " days"


def check_rating_below(p: RatingBelow, s: WindowScore, title: str = "") -> Finding:
    """Below the threshold with enough ratings, and the upper end of the 95% interval of
    the window's mean stars below it too."""
    upper = mean_stars_upper(s.rating_mean, s.rating_count) if s.rating_mean is not None else 5.0
    holds = (
        s.bayesian_average < p.threshold
        and s.rating_count >= p.min_ratings
        and upper < p.threshold
    )
    return Finding(
        holds=holds,
        recovered=s.bayesian_average >= p.threshold + p.rearm_margin,
        summary=(f"The rating of “{title}” is {s.bayesian_average:.2f} stars over the last "
                 f"{_days(p.window)} ({s.rating_count} ratings), below {p.threshold:g}."),
        figures={"window": p.window, "bayesian_average": s.bayesian_average,
                 "rating_count": s.rating_count, "rating_mean": s.rating_mean,
                 "mean_upper_95": round(upper, 3), "threshold": p.threshold},
    )


def check_score_drop(p: ScoreDrop, s: WindowScore, title: str = "") -> Finding:
    """The score fell by ``points`` or more, and either the ratings' positive share or the
    views fell for real: the recent 95% interval wholly below the previous period's."""
    if s.previous_score is None:
        return Finding(holds=False, recovered=True)
    fall = s.previous_score - s.score
    _, share_high = wilson_interval(s.positive_ratings, s.rating_count)
    share_low_before, _ = wilson_interval(s.previous_positive_ratings, s.previous_rating_count)
    ratings_fell = (
        s.rating_count >= p.min_ratings and s.previous_rating_count >= p.min_ratings
        and share_high < share_low_before
    )
    _, views_high = poisson_interval(s.views)
    views_low_before, _ = poisson_interval(s.previous_views)
    views_fell = s.previous_views >= p.min_views and views_high < views_low_before
    because = [reason for reason, real in (
        ("fewer good ratings", ratings_fell), ("fewer views", views_fell)) if real]
    return Finding(
        holds=fall >= p.points and (ratings_fell or views_fell),
        recovered=fall <= p.points - p.rearm_points,
        summary=(f"The score of “{title}” fell {fall} points to {s.score} over the last "
                 f"{_days(p.window)} (was {s.previous_score})"
                 + (f": {' and '.join(because)}." if because else ".")),
        figures={"window": p.window, "score": s.score, "previous_score": s.previous_score,
                 "fall": fall, "positive_ratings": s.positive_ratings,
                 "rating_count": s.rating_count,
                 "previous_positive_ratings": s.previous_positive_ratings,
                 "previous_rating_count": s.previous_rating_count, "views": s.views,
                 "previous_views": s.previous_views, "ratings_fell": ratings_fell,
                 "views_fell": views_fell},
    )


def check_engagement_collapse(
    p: EngagementCollapse, weekly_views: list[int], title: str = ""
) -> Finding:
    """This week at or below ``percent`` of the trailing 4-week average, on enough views,
    and this week's 95% interval wholly below the trailing average's."""
    if len(weekly_views) < 5:
        return Finding(holds=False, recovered=False)
    now_views, before = weekly_views[0], weekly_views[1:5]
    average = sum(before) / 4
    if average <= 0:
        return Finding(holds=False, recovered=True)
    ratio = now_views / average
    _, high = poisson_interval(now_views)
    low_before, _ = poisson_interval(sum(before))
    holds = (
        average >= p.min_weekly_views
        and ratio * 100 <= p.percent
        and high < low_before / 4
    )
    return Finding(
        holds=holds,
        recovered=ratio * 100 >= p.percent + p.rearm_percent,
        summary=(f"Views of “{title}” collapsed: {now_views} in the last 7 days against "
                 f"{average:.4g} a week over the 4 weeks before ({ratio:.0%})."),
        figures={"views_this_week": now_views, "weekly_average_before": average,
                 "ratio": round(ratio, 4), "percent": p.percent,
                 "views_this_week_upper_95": round(high, 1),
                 "weekly_average_lower_95": round(low_before / 4, 1)},
    )


# --- whole evaluations ------------------------------------------------------------------------

@dataclass(frozen=True)
class AlertDraft:
    """An alert decided, before it is stored: (asset_id, rule, episode) is its key."""

    asset_id: str
    rule: str
    episode: int
    title: str
    owner_email: str
    summary: str
    details: dict[str, Any]
    revision: int | None = None


@dataclass(frozen=True)
class Outcome:
    asset_id: str
    rule: str
    before: RuleState
    after: RuleState
    alert: AlertDraft | None = None


LEVEL_RULES = ("rating_below", "score_drop", "engagement_collapse")


def _finding(rule: str, params: Any, update: AssetScoreUpdate) -> Finding | None:
    title = update.title or update.asset_id
    if rule == "engagement_collapse":
        return check_engagement_collapse(params, update.weekly_views, title)
    score = update.scores.get(params.window)
    if score is None:
        return None
    if rule == "rating_below":
        return check_rating_below(params, score, title)
    return check_score_drop(params, score, title)


def evaluate_scores(
    update: AssetScoreUpdate, rules: RuleSet, states: Mapping[str, RuleState], now: datetime,
    only: tuple[str, ...] = LEVEL_RULES,
) -> list[Outcome]:
    """Every enabled level rule on one asset state; the outcomes that changed something."""
    outcomes = []
    for rule in only:
        params = rules.get(rule)
        if not params.enabled or not update.owner_email:
            continue
        finding = _finding(rule, params, update)
        if finding is None:
            continue
        before = states.get(rule, RuleState())
        after, fired = step(before, finding, now,
                            confirm=timedelta(minutes=params.confirm_minutes),
                            cooldown=timedelta(hours=params.cooldown_hours))
        alert = None
        if fired:
            alert = AlertDraft(
                asset_id=update.asset_id, rule=rule, episode=after.episode,
                title=update.title or update.asset_id, owner_email=update.owner_email,
                summary=finding.summary, details=finding.figures, revision=update.revision)
        if after != before:
            outcomes.append(Outcome(update.asset_id, rule, before, after, alert))
    return outcomes


def comment_matches(p: LowRatingComment, event: EventEnvelope, now: datetime) -> bool:
    return (
        p.enabled and event.type == "rating" and event.stars is not None
        and event.stars <= p.max_stars and event.has_comment
        and now - event.occurred_at <= timedelta(hours=p.max_age_hours)
    )


def evaluate_rating_event(
    event: EventEnvelope, params: LowRatingComment, state: RuleState, now: datetime, *,
    title: str, owner_email: str, comment: str | None,
) -> Outcome | None:
    """The comment rule on one rating event; None when the event is not a match."""
    if not owner_email or not comment_matches(params, event, now):
        return None
    after, fired = step_event(state, str(event.event_id), now,
                              cooldown=timedelta(minutes=params.cooldown_minutes))
    alert = None
    if fired:
        stars = event.stars or 0
        quoted = f" “{comment}”" if comment else ""
        more = (f" ({state.suppressed} more low ratings arrived during the cooldown before "
                "it.)" if state.suppressed else "")
        alert = AlertDraft(
            asset_id=event.asset_id, rule="low_rating_comment", episode=after.episode,
            title=title, owner_email=owner_email,
            summary=f"A new {stars}-star rating of “{title}” says why:{quoted}{more}",
            details={"stars": stars, "previous_stars": event.previous_stars,
                     "comment": comment, "rated_at": event.occurred_at.isoformat(),
                     "event_id": str(event.event_id), "suppressed_before": state.suppressed},
        )
    return Outcome(event.asset_id, "low_rating_comment", state, after, alert)
