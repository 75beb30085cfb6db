"""The two ways an alert leaves: email over SMTP and a signed webhook over HTTPS.

Each ``send`` either returns (the server accepted the message) or raises ``DeliveryError``
saying whether retrying can help. Nothing here logs a secret: webhook URLs are shown as
scheme and host, SMTP as host and port.

Email carries a Message-ID made from the delivery's key, and webhooks an
``X-Glassboard-Delivery`` header with the same key, on every attempt: if the notifier dies
after the server accepted a message but before it recorded that, the one resend is
recognisable as the same message (docs/alerts.md, "exactly once").
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

import aiosmtplib
import httpx

from shared.smtp import SmtpConfig, build_message, is_permanent, send_message
from shared.webhooks import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    describe_target,
    sign,
    validate_webhook_url,
)

from .render import AlertView, email_content, slack_body

__all__ = [
    "Channels",
    "ConsoleEmail",
    "Delivery",
    "DeliveryError",
    "EmailChannel",
    "WebhookChannel",
]


class DeliveryError(Exception):
    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.permanent = permanent


@dataclass(frozen=True)
class Delivery:
    id: int
    message_key: UUID
    recipient_email: str
    channel: str
    target: str
    kind: str
    attempts: int

    @property
    def digest(self) -> bool:
        return self.kind == "digest"


class Channel(Protocol):
    async def send(self, delivery: Delivery, alerts: list[AlertView]) -> None: ...


class EmailChannel:
    def __init__(self, config: SmtpConfig, public_url: str) -> None:
        self.config = config
        self.public_url = public_url

    def message_id(self, delivery: Delivery) -> str:
        return f"<alert-{delivery.message_key}@{self.config.domain}>"

    async def send(self, delivery: Delivery, alerts: list[AlertView]) -> None:
        subject, text, html_body = email_content(alerts, self.public_url, delivery.digest)
        message = build_message(
            sender=self.config.sender, to=delivery.target, subject=subject, text=text,
            html=html_body, message_id=self.message_id(delivery),
            headers={DELIVERY_HEADER: str(delivery.message_key),
                     "Auto-Submitted": "auto-generated"},
        )
        try:
            await send_message(self.config, message)
        except (aiosmtplib.SMTPException, OSError) as exc:
            reason = f"SMTP {self.config.host}:{self.config.port}: {type(exc).__name__}: {exc}"
            raise DeliveryError(reason[:500], permanent=is_permanent(exc)) from exc


class ConsoleEmail:
    """Development without SMTP_HOST: alert emails are printed, like sign-in links."""

    def __init__(self, public_url: str) -> None:
        self.public_url = public_url

    async def send(self, delivery: Delivery, alerts: list[AlertView]) -> None:
        subject, text, _ = email_content(alerts, self.public_url, delivery.digest)
        print(f"\n--- alert email to {delivery.target}: {subject}\n{text}---\n", flush=True)


class WebhookChannel:
    def __init__(self, secret: str, public_url: str, timeout: float, production: bool) -> None:
        self.secret = secret
        self.public_url = public_url
        self.production = production
        # Redirects are not followed: the URL that was validated is the one called.
        self.client = httpx.AsyncClient(timeout=timeout, follow_redirects=False)

    def request(self, delivery: Delivery, alerts: list[AlertView]) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(slack_body(alerts, self.public_url, delivery.digest)).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Glassboard-Notifier/1",
            SIGNATURE_HEADER: sign(body, self.secret),
            TIMESTAMP_HEADER: str(int(time.time())),
            DELIVERY_HEADER: str(delivery.message_key),
        }
        return body, headers

    async def send(self, delivery: Delivery, alerts: list[AlertView]) -> None:
        where = describe_target(delivery.target)
        try:
            url = validate_webhook_url(delivery.target, production=self.production)
        except ValueError as exc:
            raise DeliveryError(f"webhook {where}: {exc}", permanent=True) from exc
        body, headers = self.request(delivery, alerts)
        try:
            response = await self.client.post(url, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise DeliveryError(f"webhook {where}: timed out", permanent=False) from exc
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook {where}: {type(exc).__name__}",
                                permanent=False) from exc
        status = response.status_code
        if 200 <= status < 300:
            return
        retry = status in (408, 425, 429) or status >= 500
        raise DeliveryError(f"webhook {where}: HTTP {status}", permanent=not retry)

    async def close(self) -> None:
        await self.client.aclose()


class Channels:
    def __init__(self, email: Channel, webhook: WebhookChannel) -> None:
        self.email = email
        self.webhook = webhook

    async def send(self, delivery: Delivery, alerts: list[AlertView]) -> None:
        channel: Channel = self.email if delivery.channel == "email" else self.webhook
        await channel.send(delivery, alerts)

    async def close(self) -> None:
        await self.webhook.close()
