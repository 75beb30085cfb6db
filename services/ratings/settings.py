"""The ratings app's settings: the shared base, the signing key of sessions and links, SMTP
for sign-in links, both public URLs, and the alert defaults it shows beside overrides."""

from __future__ import annotations

from pydantic import Field

from shared.alert_rules import AlertRuleSettings
from shared.settings import (
    IngestUrlSettings,
    RatingsUrlSettings,
    ScoringSettings,
    SigningSettings,
    SmtpSettings,
)

__all__ = ["RatingsSettings"]


class RatingsSettings(AlertRuleSettings, ScoringSettings, SigningSettings, SmtpSettings,
                      RatingsUrlSettings, IngestUrlSettings):
    #: Seconds between keep-alive comments on an idle score stream (SSE).
    sse_heartbeat_seconds: float = Field(15.0, gt=0, alias="SSE_HEARTBEAT_SECONDS")

    @property
    def secure_cookies(self) -> bool:
        return self.production
