"""The notifier's alert rules, pure: each rule by hand (docs/alerts.md shows the
arithmetic), the episode state machine, then properties that must hold for any input."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from services.notifier.rules import (
    Finding,
    RuleState,
    check_engagement_collapse,
    check_rating_below,
    check_score_drop,
    evaluate_rating_event,
    evaluate_scores,
    step,
    step_event,
)
from shared.alert_rules import (
    EngagementCollapse,
    LowRatingComment,
    RatingBelow,
    RuleSet,
    ScoreDrop,
)
from shared.events import EventEnvelope, Source
from shared.scores import AssetScoreUpdate, UsageTotals, WindowScore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
NO_WAIT = {"confirm": timedelta(0), "cooldown": timedelta(hours=24)}


def window(**fields: Any) -> WindowScore:
    base: dict[str, Any] = dict(
        since="2026-02-01", score=60, previous_score=60, bayesian_average=3.5,
        rating_count=0, rating_mean=None, rating_part=0.6, engagement_part=0.5,
        viewers_percentile=0.5, engagement_percentile=0.5, downloads_percentile=0.5)
    return WindowScore(**{**base, **fields})


def update(revision: int = 1, weekly: list[int] | None = None, **fields: Any) -> AssetScoreUpdate:
    return AssetScoreUpdate(
        asset_id="deck", revision=revision, title="Pitch deck", asset_type="deck",
        owner_email="owner@example.com", totals=UsageTotals(), updated_at=T0,
        scores={"30d": window(**fields)}, weekly_views=weekly or [50, 50, 50, 50, 50])


# --- the rules, by hand ----------------------------------------------------------------------


def test_rating_below_needs_the_whole_interval_below_the_threshold() -> None:
    p = RatingBelow(threshold=3.0, min_ratings=5)
    twelve = check_rating_below(p, window(bayesian_average=2.4, rating_count=12, rating_mean=2.0))
    assert twelve.holds  # upper bound 2.98 < 3
    eleven = check_rating_below(p, window(bayesian_average=2.4, rating_count=11, rating_mean=2.0))
    assert not eleven.holds  # upper bound 3.02: could be noise
    few = check_rating_below(p, window(bayesian_average=1.5, rating_count=4, rating_mean=1.0))
    assert not few.holds  # under min_ratings
    assert check_rating_below(p, window(bayesian_average=3.25)).recovered
    assert not check_rating_below(p, window(bayesian_average=3.2)).recovered


def test_score_drop_needs_a_real_fall_in_views_or_good_ratings() -> None:
    p = ScoreDrop(points=10, min_views=50, min_ratings=5)
    # views 40 vs 100: 40's upper bound 54.5 < 100's lower bound 81.4
    fell = check_score_drop(p, window(score=55, previous_score=70, views=40, previous_views=100))
    assert fell.holds and fell.figures["views_fell"] and fell.figures["fall"] == 15
    assert "fewer views" in fell.summary
    # views 70 vs 100: 70's upper bound 88.4 overlaps 100's interval -> noise
    noisy = check_score_drop(p, window(score=55, previous_score=70, views=70, previous_views=100))
    assert not noisy.holds
    # good ratings 1 of 8 vs 9 of 10: Wilson 1/8 upper 0.47 < 9/10 lower 0.60
    rated = check_score_drop(p, window(score=50, previous_score=64, rating_count=8,
                                       positive_ratings=1, previous_rating_count=10,
                                       previous_positive_ratings=9))
    assert rated.holds and rated.figures["ratings_fell"]
    small = check_score_drop(p, window(score=50, previous_score=59, views=0, previous_views=100))
    assert not small.holds  # a fall of 9 < 10 points
    assert check_score_drop(p, window(score=50, previous_score=55)).recovered  # fall 5 <= 10-5
    assert check_score_drop(p, window(score=50, previous_score=None)).recovered


def test_engagement_collapse_by_hand() -> None:
    p = EngagementCollapse(percent=50, min_weekly_views=20)
    # 10 this week against (50+60+40+50)/4 = 50: 20%; 10's upper 18.4 < 200's lower 173.2 / 4
    found = check_engagement_collapse(p, [10, 50, 60, 40, 50], "Deck")
    assert found.holds and found.figures["ratio"] == 0.2
    assert "10 in the last 7 days against 50 a week" in found.summary
    assert not check_engagement_collapse(p, [4, 10, 12, 8, 10], "").holds  # average 10 < 20
    assert not check_engagement_collapse(p, [30, 50, 60, 40, 50], "").holds  # 60%
    assert check_engagement_collapse(p, [33, 50, 60, 40, 50], "").recovered  # 66% >= 65%
    assert not check_engagement_collapse(p, [32, 50, 60, 40, 50], "").recovered
    assert check_engagement_collapse(p, [0, 0, 0, 0, 0], "").recovered


# --- the state machine -----------------------------------------------------------------------


HOLDS = Finding(holds=True, recovered=False)
BETWEEN = Finding(holds=False, recovered=False)
RECOVERED = Finding(holds=False, recovered=True)


def test_a_value_wobbling_around_the_threshold_alerts_once() -> None:
    p = RatingBelow(threshold=3.0, rearm_margin=0.25, min_ratings=1, confirm_minutes=0)
    state, fired = RuleState(), 0
    for minute, value in enumerate([3.4, 2.9, 3.05, 2.95, 3.1, 2.8, 3.2, 2.9]):
        finding = check_rating_below(p, window(bayesian_average=value, rating_count=40,
                                               rating_mean=value - 0.5))
        state, now_fired = step(state, finding, T0 + timedelta(minutes=minute), **NO_WAIT)
        fired += now_fired
    assert fired == 1 and state.status == "firing" and state.episode == 1


def test_rearms_past_the_margin_and_fires_again_only_after_the_cooldown() -> None:
    state, fired = step(RuleState(), HOLDS, T0, **NO_WAIT)
    assert fired and state.episode == 1
    state, _ = step(state, RECOVERED, T0 + timedelta(hours=1), **NO_WAIT)
    assert state.status == "armed"
    state, fired = step(state, HOLDS, T0 + timedelta(hours=2), **NO_WAIT)
    assert not fired and state.status == "pending"  # inside the 24 h cooldown
    state, fired = step(state, HOLDS, T0 + timedelta(hours=24), **NO_WAIT)
    assert fired and state.episode == 2 and state.status == "firing"


def test_a_condition_must_hold_for_the_confirmation_delay() -> None:
    wait = {"confirm": timedelta(minutes=10), "cooldown": timedelta(0)}
    state, fired = step(RuleState(), HOLDS, T0, **wait)
    assert not fired and state.status == "pending" and state.pending_since == T0
    state, fired = step(state, BETWEEN, T0 + timedelta(minutes=5), **wait)
    assert not fired and state.status == "armed"  # a transient dip: never alerted
    state, _ = step(state, HOLDS, T0 + timedelta(minutes=6), **wait)
    state, fired = step(state, HOLDS, T0 + timedelta(minutes=16), **wait)
    assert fired and state.episode == 1


def test_comment_rule_fires_once_per_cooldown_and_once_per_event() -> None:
    cooldown = timedelta(minutes=60)
    state, fired = step_event(RuleState(), "e1", T0, cooldown=cooldown)
    assert fired and state.episode == 1
    assert step_event(state, "e1", T0 + timedelta(hours=2), cooldown=cooldown) == (state, False)
    state, fired = step_event(state, "e2", T0 + timedelta(minutes=10), cooldown=cooldown)
    assert not fired and state.suppressed == 1
    state, fired = step_event(state, "e3", T0 + timedelta(minutes=61), cooldown=cooldown)
    assert fired and state.episode == 2 and state.suppressed == 0


def test_evaluate_scores_fires_with_the_alert_key_and_figures() -> None:
    rules = RuleSet(rating_below=RatingBelow(confirm_minutes=0))
    outcomes = evaluate_scores(update(bayesian_average=2.2, rating_count=20, rating_mean=1.8),
                               rules, {}, T0)
    [outcome] = [o for o in outcomes if o.alert]
    alert = outcome.alert
    assert alert is not None
    assert (alert.asset_id, alert.rule, alert.episode) == ("deck", "rating_below", 1)
    assert alert.owner_email == "owner@example.com" and alert.revision == 1
    assert "2.20 stars over the last 30 days (20 ratings), below 3" in alert.summary


def test_comment_rule_ignores_old_high_and_uncommented_ratings() -> None:
    p = LowRatingComment(max_stars=2, max_age_hours=12)

    def event(stars: int, comment: bool, age_hours: float) -> EventEnvelope:
        return EventEnvelope(type="rating", asset_id="deck", viewer_id="user:7",
                             occurred_at=T0 - timedelta(hours=age_hours), source=Source.API,
                             stars=stars, has_comment=comment)

    def outcome(e: EventEnvelope) -> Any:
        return evaluate_rating_event(e, p, RuleState(), T0, title="Deck",
                                     owner_email="o@example.com", comment="Outdated")

    fired = outcome(event(1, True, 0.1))
    assert fired.alert is not None and "1-star rating of “Deck” says why: “Outdated”" in fired.alert.summary
    assert outcome(event(3, True, 0.1)) is None
    assert outcome(event(2, False, 0.1)) is None
    assert outcome(event(1, True, 13)) is None  # history, not news


# --- properties --------------------------------------------------------------------------------


findings = st.sampled_from([HOLDS, BETWEEN, RECOVERED])


@settings(max_examples=300)
@given(st.lists(st.tuples(findings, st.integers(0, 180)), max_size=60),
       st.integers(0, 120), st.integers(0, 240))
def test_alerts_need_a_recovery_and_the_cooldown_between_them(
    steps: list[tuple[Finding, int]], confirm: int, cooldown: int,
) -> None:
    state, now, fired_at = RuleState(), T0, []
    recovered_since_last = True
    for finding, minutes in steps:
        now += timedelta(minutes=minutes)
        before = state
        state, fired = step(state, finding, now, confirm=timedelta(minutes=confirm),
                            cooldown=timedelta(minutes=cooldown))
        if before.status == "firing" and state.status == "armed":
            recovered_since_last = True
        if fired:
            assert finding.holds and recovered_since_last
            assert not fired_at or now - fired_at[-1] >= timedelta(minutes=cooldown)
            fired_at.append(now)
            recovered_since_last = False
    assert state.episode == len(fired_at)


@given(st.lists(st.floats(2.5, 3.2), min_size=1, max_size=40))
def test_a_rating_that_never_clears_the_margin_alerts_at_most_once(values: list[float]) -> None:
    p = RatingBelow(threshold=3.0, rearm_margin=0.25, min_ratings=1)
    state, fired = RuleState(), 0
    for i, value in enumerate(values):
        finding = check_rating_below(p, window(bayesian_average=value, rating_count=500,
                                               rating_mean=value))
        state, now_fired = step(state, finding, T0 + timedelta(days=i), confirm=timedelta(0),
                                cooldown=timedelta(0))
        fired += now_fired
    assert fired <= 1


@given(st.integers(1, 10_000), st.integers(0, 100), st.integers(0, 100))
def test_no_fall_in_the_evidence_never_counts_as_a_drop(views: int, score: int, fall: int) -> None:
    s = window(score=score, previous_score=min(100, score + fall), views=views,
               previous_views=views, rating_count=20, positive_ratings=10,
               previous_rating_count=20, previous_positive_ratings=10)
    assert not check_score_drop(ScoreDrop(points=1), s).holds


@given(st.lists(st.integers(0, 5_000), min_size=5, max_size=5))
def test_collapse_only_fires_below_the_percentage_and_on_enough_views(weeks: list[int]) -> None:
    p = EngagementCollapse(percent=50, min_weekly_views=20)
    found = check_engagement_collapse(p, weeks)
    average = sum(weeks[1:]) / 4
    if found.holds:
        assert average >= 20 and weeks[0] <= 0.5 * average
    assert not (found.holds and found.recovered)


@given(st.floats(1.0, 5.0), st.integers(0, 1000), st.floats(1.0, 5.0))
def test_rating_rule_never_fires_at_or_above_the_threshold(avg: float, n: int, mean: float) -> None:
    p = RatingBelow(threshold=3.0, min_ratings=5)
    found = check_rating_below(p, window(bayesian_average=avg, rating_count=n, rating_mean=mean))
    if found.holds:
        assert avg < 3.0 and n >= 5 and mean < 3.0
