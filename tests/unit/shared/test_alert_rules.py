"""The alert rule parameters shared by ratings and the notifier (pure)."""

from __future__ import annotations

from shared.alert_rules import RuleSet, with_overrides


def test_per_owner_overrides_replace_only_the_fields_they_name() -> None:
    rules = with_overrides(RuleSet(), {"rating_below": {"threshold": 4.0},
                                       "score_drop": {"points": 500}})  # invalid: ignored
    assert rules.rating_below.threshold == 4.0 and rules.rating_below.min_ratings == 5
    assert rules.score_drop.points == 10
