"""What an alert says: the email (text and HTML) and the Slack-compatible webhook body. Pure.

One message carries one alert (immediate) or a day's alerts (digest). Every alert links to
its asset's page, ``{PUBLIC_RATINGS_URL}/assets/{id}``; the footer links to the inbox,
where people change how they hear about alerts.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from shared.alert_rules import RULE_LABELS

__all__ = ["AlertView", "asset_url", "email_content", "slack_body"]


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


def asset_url(base_url: str, asset_id: str) -> str:
    return f"{base_url.rstrip('/')}/assets/{quote(asset_id, safe='')}"


def _subject(alerts: list[AlertView], digest: bool) -> str:
    if digest or len(alerts) != 1:
        return f"Glassboard daily digest: {len(alerts)} alert{'s' * (len(alerts) != 1)}"
    return f"Glassboard alert: {alerts[0].label} on “{alerts[0].title}”"


def email_content(alerts: list[AlertView], base_url: str, digest: bool) -> tuple[str, str, str]:
    """(subject, text, html) of one email."""
    inbox = f"{base_url.rstrip('/')}/alerts"
    subject = _subject(alerts, digest)
    text_parts = []
    for alert in alerts:
        text_parts.append(f"{alert.label}: {alert.title}\n{alert.summary}\n"
                          f"Open the asset: {asset_url(base_url, alert.asset_id)}\n")
    intro = "Your alerts of the day:\n\n" if digest else ""
    text = (intro + "\n".join(text_parts)
            + f"\nYou get this because you own the asset. Your alerts and how you receive "
              f"them: {inbox}\n")

    items = []
    for alert in alerts:
        url = html.escape(asset_url(base_url, alert.asset_id), quote=True)
        items.append(
            '<tr><td style="padding:16px 20px;border-top:1px solid #e3e5ee">'
            f'<p style="margin:0 0 4px;font-size:12px;font-weight:700;color:#3730a3;'
            f'text-transform:uppercase;letter-spacing:.06em">{html.escape(alert.label)}</p>'
            f'<p style="margin:0 0 6px;font-size:18px;font-weight:700;color:#111827">'
            f'{html.escape(alert.title)}</p>'
            f'<p style="margin:0 0 14px;font-size:15px;line-height:1.45;color:#374151">'
            f'{html.escape(alert.summary)}</p>'
            f'<a href="{url}" style="display:inline-block;padding:10px 18px;border-radius:10px;'
            f'background:#4338ca;color:#ffffff;font-weight:700;text-decoration:none">'
            f'Open the asset</a></td></tr>'
        )
    heading = "Your alerts of the day" if digest else "An alert on your content"
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(subject)}</title></head>"
        '<body style="margin:0;padding:24px;background:#f4f5fb;font-family:-apple-system,'
        'Segoe UI,Roboto,Arial,sans-serif">'
        '<table role="presentation" width="100%" style="max-width:600px;margin:0 auto;'
        'background:#ffffff;border-radius:14px;border-collapse:separate">'
        '<tr><td style="padding:18px 20px;background:#4338ca;border-radius:14px 14px 0 0;'
        f'color:#ffffff;font-size:17px;font-weight:700">Glassboard · {heading}</td></tr>'
        + "".join(items)
        + '<tr><td style="padding:14px 20px;border-top:1px solid #e3e5ee;font-size:13px;'
        'color:#6b7280">You get this because you own the asset. '
        f'<a href="{html.escape(inbox, quote=True)}" style="color:#3730a3">Your alerts and '
        "how you receive them</a>.</td></tr></table></body></html>"
    )
    return subject, text, body


def _mrkdwn(value: str) -> str:
    """Slack's mrkdwn needs only these three escaped."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_body(alerts: list[AlertView], base_url: str, digest: bool) -> dict[str, Any]:
    """``text`` (the notification and fallback) and ``blocks`` (the rich message)."""
    text = _subject(alerts, digest)
    if len(alerts) == 1 and not digest:
        text = f"{alerts[0].summary} {asset_url(base_url, alerts[0].asset_id)}"
    blocks: list[dict[str, Any]] = []
    if digest:
        blocks.append({"type": "header",
                       "text": {"type": "plain_text", "text": _subject(alerts, digest)}})
    for alert in alerts:
        url = asset_url(base_url, alert.asset_id)
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
