"""The settings' safety rules (pure)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.notifier.settings import NotifierSettings
from services.ratings.settings import RatingsSettings
from shared.settings import SettingsError, SigningSettings, load_settings


def test_production_refuses_the_development_secret() -> None:
    with pytest.raises(ValidationError, match="GLASSBOARD_SIGNING_SECRET"):
        SigningSettings(env="production")
    real = "a-real-secret-of-at-least-32-bytes"
    assert SigningSettings(env="production", signing_secret=real).env == "production"


def test_each_service_reads_only_its_own_fields() -> None:
    assert "signing_secret" in RatingsSettings.model_fields
    assert "signing_secret" not in NotifierSettings.model_fields
    # Issue 12: ratings derives each webhook receiver's own secret from it, to show the
    # owner once; the database keeps only a key id (shared/webhooks.py).
    assert "webhook_signing_secret" in RatingsSettings.model_fields


def test_alert_variables_land_on_the_rule_models_and_keyword_arguments_win(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ALERT_CONFIRM_MINUTES", "3")
    monkeypatch.setenv("ALERT_RATING_THRESHOLD", "2.5")
    rules = NotifierSettings(alert_rating_threshold=3.5).alert_rules
    assert rules.rating_below.threshold == 3.5
    assert rules.rating_below.confirm_minutes == rules.score_drop.confirm_minutes == 3.0
    assert rules.engagement_collapse.confirm_minutes == 3.0
    assert rules.low_rating_comment.max_stars == 2  # the model's own default


def test_a_bad_setting_stops_a_service_with_one_message_naming_the_variable() -> None:
    with pytest.raises(SettingsError, match="the notifier cannot start: ALERT_RATING_THRESHOLD: "
                       "Input should be less than or equal to 5"):
        load_settings(NotifierSettings, "notifier", alert_rating_threshold=9)
    with pytest.raises(SettingsError, match="SMTP_PORT: Input should be greater than"):
        load_settings(RatingsSettings, "ratings app", smtp_port=0)
