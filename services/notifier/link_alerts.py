"""Hot-engagement alerts to the rep who sent a share link. Pure: no IO, no clock.

Four rules read each ``LinkVisitUpdate`` (shared/share_links.py) of the rep's link:
- ``link_first_open``: the link's first counted open;
- ``link_reopen``: the recipient opens it again ``reopen_after_days`` or more after their
  previous open (0: off);
- ``link_forward``: a browser other than the recipient's opens it (the first forward);
- ``link_long_read``: one visit reaches ``long_read_seconds`` of engaged time (0: off).
Each fires at most once per link and rule (``fired``: the rules already stored in
``link_alert_state``). Nothing waits for confirmation: the rep hears at once, unless it
is their quiet hours (UTC), which hold the delivery until they end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Any

from shared.share_links import LinkVisitUpdate

__all__ = [
    "LINK_RULES",
    "LinkAlert",
    "LinkContext",
    "ShareAlertSettings",
    "evaluate_link_visit",
    "in_quiet_hours",
    "quiet_hours_end",
]

FIRST_OPEN, REOPEN, FORWARD, LONG_READ = (
    "link_first_open", "link_reopen", "link_forward", "link_long_read")
LINK_RULES = (FIRST_OPEN, REOPEN, FORWARD, LONG_READ)


@dataclass(frozen=True)
class ShareAlertSettings:
    """A rep's ``share_alert_preferences`` row; these defaults when they have none (the
    same as the table's column defaults)."""

    first_open: bool = True
    reopen_after_days: int = 7
    forward: bool = True
    long_read_seconds: int = 120
    quiet_from_hour: int = 0
    quiet_to_hour: int = 0


@dataclass(frozen=True)
class LinkContext:
    """What the catalog says of the link (never the message): whose it is and to whom."""

    link_id: str
    asset_id: str
    title: str
    creator_email: str
    recipient_email: str | None = None
    recipient_name: str | None = None
    company: str | None = None

    @property
    def recipient(self) -> str:
        """The recipient as the rep knows them; an erased one is just "your recipient"."""
        who = self.recipient_name or self.recipient_email
        if not who:
            return "Your recipient"
        return f"{who} ({self.company})" if self.company else who


@dataclass(frozen=True)
class LinkAlert:
    """One rule's alert for one link, due at ``due_at`` (now, or when quiet hours end)."""

    link_id: str
    rule: str
    asset_id: str
    title: str
    rep_email: str
    headline: str
    summary: str
    due_at: datetime
    details: dict[str, Any]


def in_quiet_hours(now: datetime, from_hour: int, to_hour: int) -> bool:
    """Whether ``now`` (UTC) lies in [from, to) hours; equal hours mean no quiet hours and
    from > to wraps past midnight (22 -> 7)."""
    hour = now.astimezone(timezone.utc).hour
    if from_hour == to_hour:
        return False
    if from_hour < to_hour:
        return from_hour <= hour < to_hour
    return hour >= from_hour or hour < to_hour


def quiet_hours_end(now: datetime, settings: ShareAlertSettings) -> datetime:
    """When a delivery decided at ``now`` may go: ``now`` itself outside quiet hours, else
    the next ``quiet_to_hour``:00 UTC."""
    if not in_quiet_hours(now, settings.quiet_from_hour, settings.quiet_to_hour):
        return now
    now = now.astimezone(timezone.utc)
    end = datetime.combine(now.date(), time(settings.quiet_to_hour), tzinfo=timezone.utc)
    return end if end > now else end + timedelta(days=1)


def _duration(ms: int) -> str:
    seconds = ms // 1000
    if seconds < 60:
        return f"{seconds} s"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def _device(update: LinkVisitUpdate) -> str:
    parts = [p for p in (update.browser, update.os) if p]
    return f"{update.device_class} ({', '.join(parts)})" if parts else update.device_class


def _texts(rule: str, update: LinkVisitUpdate, link: LinkContext,
           settings: ShareAlertSettings) -> tuple[str, str]:
    """(headline, summary) of one rule's alert."""
    who, title = link.recipient, f"“{link.title}”"
    device = _device(update)
    if rule == FIRST_OPEN:
        return (f"{who} opened {title}",
                f"{who} opened your link to {title} for the first time, on a {device}.")
    if rule == REOPEN:
        assert update.previous_open_at is not None
        days = (update.opened_at - update.previous_open_at).days
        return (f"{who} is back on {title}",
                f"{who} opened {title} again, {days} days after their previous visit.")
    reader = f"Forwarded reader {update.forward_no or ''}".rstrip() if update.forwarded else who
    if rule == FORWARD:
        return (f"{title} was forwarded",
                f"Someone other than {who} opened your link to {title}, on a {device}: "
                f"it was passed on.")
    return (f"{reader} is reading {title}",
            f"{reader} has spent {_duration(update.engaged_ms)} on {title} "
            f"(a long read is {_duration(settings.long_read_seconds * 1000)} or more).")


def _matches(rule: str, update: LinkVisitUpdate, settings: ShareAlertSettings) -> bool:
    if rule == FIRST_OPEN:
        return settings.first_open and update.first_open
    if rule == REOPEN:
        return (settings.reopen_after_days > 0 and not update.forwarded
                and update.previous_open_at is not None
                and update.opened_at - update.previous_open_at
                >= timedelta(days=settings.reopen_after_days))
    if rule == FORWARD:
        return settings.forward and update.forwarded
    return (settings.long_read_seconds > 0
            and update.engaged_ms >= settings.long_read_seconds * 1000)


def evaluate_link_visit(update: LinkVisitUpdate, link: LinkContext,
                        settings: ShareAlertSettings, fired: frozenset[str],
                        now: datetime) -> list[LinkAlert]:
    """The alerts this visit's state raises: each rule that matches and has not fired for
    the link yet, in ``LINK_RULES`` order."""
    due = quiet_hours_end(now, settings)
    alerts = []
    for rule in LINK_RULES:
        if rule in fired or not _matches(rule, update, settings):
            continue
        headline, summary = _texts(rule, update, link, settings)
        alerts.append(LinkAlert(
            link_id=link.link_id, rule=rule, asset_id=link.asset_id, title=link.title,
            rep_email=link.creator_email, headline=headline, summary=summary, due_at=due,
            details={"link_id": link.link_id, "visit": update.event_id, "headline": headline,
                     "opened_at": update.opened_at.isoformat(),
                     "forwarded": update.forwarded, "forward_no": update.forward_no,
                     "device_class": update.device_class, "engaged_ms": update.engaged_ms,
                     "held_until": due.isoformat() if due > now else None}))
    return alerts
