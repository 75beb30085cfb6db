"""What an alert says: the email (text and HTML) and the Slack-compatible webhook body. Pure.

One message carries one alert (immediate) or a day's alerts (digest). An owner's alert links
to its asset's page, ``{PUBLIC_RATINGS_URL}/assets/{id}``; a hot-engagement alert to a rep
(its details name a ``link_id``) links to the rep's links, ``/links``. The footer links
to the inbox, where people change how they hear about alerts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from shared.alert_rules import RULE_LABELS
from shared.web.templating import make_environment

__all__ = ["AlertView", "alert_url", "asset_url", "email_content", "slack_body"]

#: The HTML part: ``templates/alerts_email.html`` on the ``email.html`` layout.
_EMAIL = make_environment("services.notifier").get_template("alerts_email.html")


@dataclass(frozen=True)
class AlertView:
    id: int
    asset_id: str
    rule: str
    title: str
    summary: str
    fired_at: datetime
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return RULE_LABELS.get(self.rule, self.rule)

    @property
    def link_id(self) -> str | None:
        """The share link of a hot-engagement alert to a rep; None for an owner's alert."""
        value = self.details.get("link_id")
        return value if isinstance(value, str) else None

    @property
    def action(self) -> str:
        return "See the link's visits" if self.link_id else "Open the asset"


def asset_url(base_url: str, asset_id: str) -> str:
    return f"{base_url.rstrip('/')}/assets/{quote(asset_id, safe='')}"


def alert_url(base_url: str, alert: AlertView) -> str:
    """Where the alert's button goes: the rep's links, or the asset's page."""
    if alert.link_id:
        return f"{base_url.rstrip('/')}/links"
    return asset_url(base_url, alert.asset_id)


def _subject(alerts: list[AlertView], digest: bool) -> str:
    if digest or len(alerts) != 1:
        return f"Glassboard daily digest: {len(alerts)} alert{'s' * (len(alerts) != 1)}"
    headline = alerts[0].details.get("headline")
    if alerts[0].link_id and isinstance(headline, str):
        return f"Glassboard: {headline}"
    return f"Glassboard alert: {alerts[0].label} on “{alerts[0].title}”"


def _reason(alerts: list[AlertView]) -> str:
    """Why the reader gets this email, for the footer."""
    if alerts and all(alert.link_id for alert in alerts):
        return "You get this because you sent this link."
    return "You get this because you own the asset."


def email_content(alerts: list[AlertView], base_url: str, digest: bool) -> tuple[str, str, str]:
    """(subject, text, html) of one email."""
    inbox = f"{base_url.rstrip('/')}/alerts"
    subject = _subject(alerts, digest)
    text_parts = []
    for alert in alerts:
        text_parts.append(f"{alert.label}: {alert.title}\n{alert.summary}\n"
                          f"{alert.action}: {alert_url(base_url, alert)}\n")
    intro = "Your alerts of the day:\n\n" if digest else ""
    reason = _reason(alerts)
    text = (intro + "\n".join(text_parts)
            + f"\n{reason} Your alerts and how you receive them: {inbox}\n")

    body = _EMAIL.render(
        subject=subject, digest=digest, inbox=inbox, reason=reason,
        alerts=[(alert, alert_url(base_url, alert)) for alert in alerts],
    )
    return subject, text, body


def _mrkdwn(value: str) -> str:
    """Slack's mrkdwn needs only these three escaped."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_body(alerts: list[AlertView], base_url: str, digest: bool) -> dict[str, Any]:
    """``text`` (the notification and fallback) and ``blocks`` (the rich message)."""
    text = _subject(alerts, digest)
    if len(alerts) == 1 and not digest:
        text = f"{alerts[0].summary} {alert_url(base_url, alerts[0])}"
    blocks: list[dict[str, Any]] = []
    if digest:
        blocks.append({"type": "header",
                       "text": {"type": "plain_text", "text": _subject(alerts, digest)}})
    for alert in alerts:
        url = alert_url(base_url, alert)
        blocks.append({
            "type": "section",
            "text": {"type": "mrkdwn",
                     "text": f"*{_mrkdwn(alert.label)}* · <{url}|{_mrkdwn(alert.title)}>\n"
                             f"{_mrkdwn(alert.summary)}"},
        })
        blocks.append({
            "type": "context",
            "elements": [{"type": "mrkdwn",
                          "text": f"Glassboard · {alert.fired_at:%Y-%m-%d %H:%M} UTC"}],
        })
    return {"text": text, "blocks": blocks}
