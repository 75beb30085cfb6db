"""The notifier's configuration, checked as a whole before anything starts.

A notifier that cannot deliver must not start and silently pile up alerts: a bad SMTP
configuration, production without SMTP or without a strong webhook signing secret (the
same rules as GLASSBOARD_SIGNING_SECRET: shared.settings.secret_problem), or an unknown
ALERT_WINDOW stop it with one message naming every problem. Secrets never appear in it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from shared.alert_rules import RuleSet
from shared.settings import secret_problem
from shared.smtp import SmtpConfig, SmtpConfigError, smtp_config
from shared.webhooks import DEV_WEBHOOK_SECRET

from .settings import NotifierSettings

__all__ = ["DEV_WEBHOOK_SECRET", "HOLD_ENV", "NotifierConfig", "NotifierConfigError"]

#: Test hook: the delivery worker waits this many seconds before its first send, so a test
#: can kill the process between the decision and the delivery.
HOLD_ENV = "GLASSBOARD_NOTIFIER_HOLD_DELIVERIES_SECONDS"


class NotifierConfigError(SystemExit):
    """The notifier cannot run with these settings; the message says what to change.

    A SystemExit, so that ``glassboard notifier`` prints just this message (no traceback)
    and exits with status 1, whoever constructed the service."""


@dataclass(frozen=True)
class NotifierConfig:
    settings: NotifierSettings
    rules: RuleSet
    smtp: SmtpConfig | None
    webhook_secret: str
    public_url: str
    hold_deliveries_seconds: float = 0.0

    @property
    def production(self) -> bool:
        return self.settings.env == "production"

    @classmethod
    def from_settings(cls, settings: NotifierSettings) -> NotifierConfig:
        errors = []
        smtp: SmtpConfig | None = None
        try:
            smtp = smtp_config(settings)
        except SmtpConfigError as exc:
            errors.append(str(exc))
        production = settings.env == "production"
        if smtp is None and production and not errors:
            errors.append("SMTP_HOST is not set: in production the notifier must be able to "
                          "email alerts (see docs/alerts.md for the SMTP_* variables)")
        secret = settings.webhook_signing_secret.get_secret_value()
        if production and (problem := secret_problem(secret)):
            errors.append(f"WEBHOOK_SIGNING_SECRET {problem}: receivers verify every "
                          "webhook with it")
        secret = secret or DEV_WEBHOOK_SECRET
        if settings.alert_retry_max_seconds < settings.alert_retry_base_seconds:
            errors.append("ALERT_RETRY_MAX_SECONDS must not be below ALERT_RETRY_BASE_SECONDS")
        if errors:
            raise NotifierConfigError("the notifier cannot start: " + " | ".join(errors))
        hold = float(os.environ.get(HOLD_ENV, "0") or 0)
        return cls(settings=settings, rules=settings.alert_rules, smtp=smtp,
                   webhook_secret=secret, public_url=settings.ratings_base_url.rstrip("/"),
                   hold_deliveries_seconds=hold)
