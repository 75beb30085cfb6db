"""Who hears about an alert, on which channels and when. Pure.

The recipient is the asset's owner. Without stored preferences they get email at once;
preferences turn email off, add a webhook, or gather everything into a daily digest sent
at ALERT_DIGEST_HOUR (UTC).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Literal

__all__ = ["Mode", "Preferences", "Target", "next_digest_at", "targets_for"]

Mode = Literal["immediate", "digest"]
Channel = Literal["email", "webhook"]


@dataclass(frozen=True)
class Preferences:
    email: bool = True
    webhook_url: str | None = None
    mode: Mode = "immediate"


@dataclass(frozen=True)
class Target:
    recipient_email: str
    channel: Channel
    target: str
    kind: Mode
    due_at: datetime


def next_digest_at(now: datetime, hour: int) -> datetime:
    """The first ``hour``:00 UTC strictly after ``now``."""
    now = now.astimezone(timezone.utc)
    today = datetime.combine(now.date(), time(hour), tzinfo=timezone.utc)
    return today if today > now else today + timedelta(days=1)


def targets_for(owner_email: str, prefs: Preferences | None, now: datetime,
                digest_hour: int) -> list[Target]:
    """One target per channel the owner chose; none when they turned every channel off."""
    prefs = prefs or Preferences()
    due = now if prefs.mode == "immediate" else next_digest_at(now, digest_hour)
    targets = []
    if prefs.email and owner_email:
        targets.append(Target(owner_email, "email", owner_email, prefs.mode, due))
    if prefs.webhook_url:
        targets.append(Target(owner_email, "webhook", prefs.webhook_url, prefs.mode, due))
    return targets
