"""The body of the alert-preferences API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["PreferencesIn"]


class PreferencesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: bool = Field(True, description="Email alerts to my address")
    webhook_url: str | None = Field(None, max_length=2000, description="Also POST them here "
                                    "(Slack-compatible JSON, signed); null for none",
                                    examples=["https://hooks.slack.com/services/T0/B0/xyz"])
    mode: Literal["immediate", "digest"] = Field("immediate", description="Each alert at "
                                                 "once, or one daily digest")
