"""The notifier's settings: the shared base, SMTP, webhooks, the alert rules' defaults and
how deliveries are retried. ``config.NotifierConfig`` checks them as a whole."""

from __future__ import annotations

from pydantic import Field, SecretStr

from shared.alert_rules import AlertRuleSettings
from shared.settings import MetricsServerSettings, RatingsUrlSettings, SmtpSettings

__all__ = ["NotifierSettings"]


class NotifierSettings(AlertRuleSettings, SmtpSettings, RatingsUrlSettings,
                       MetricsServerSettings):
    #: Largest batch of score states and rating events decided in one transaction.
    notifier_max_records: int = Field(5000, ge=1, alias="NOTIFIER_MAX_RECORDS")
    webhook_timeout_seconds: float = Field(5.0, gt=0, le=60, alias="WEBHOOK_TIMEOUT_SECONDS")
    #: Signs every webhook body (X-Glassboard-Signature); required in production.
    webhook_signing_secret: SecretStr = Field(SecretStr(""), alias="WEBHOOK_SIGNING_SECRET")
    alert_max_attempts: int = Field(8, ge=1, le=50, alias="ALERT_MAX_ATTEMPTS")
    alert_retry_base_seconds: float = Field(5.0, gt=0, alias="ALERT_RETRY_BASE_SECONDS")
    alert_retry_max_seconds: float = Field(3600.0, gt=0, alias="ALERT_RETRY_MAX_SECONDS")
