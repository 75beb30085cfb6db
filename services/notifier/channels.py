"""The two ways an alert leaves: email over SMTP and a signed webhook over HTTPS.

A webhook is signed with its receiver's own secret (derived from WEBHOOK_SIGNING_SECRET and
the key id stored with the URL), over the timestamp and the body. Its host is resolved at
each send and, in production, refused unless every address is public; the request then
goes to a checked address, the name kept for Host and TLS (shared/webhooks.py).

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
import asyncpg
import httpx

from shared.smtp import SmtpConfig, build_message, is_permanent, send_message
from shared.webhooks import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookTarget,
    describe_target,
    receiver_secret,
    resolve_target,
    sign,
)

from .reads.ratings import webhook_key
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
    def __init__(self, pool: asyncpg.Pool, master_secret: str, public_url: str, timeout: float,
                 production: bool) -> None:
        self.pool = pool
        self.master_secret = master_secret
        self.public_url = public_url
        self.timeout = timeout
        self.production = production
        # Redirects are not followed: the URL that was checked is the one called. No
        # connection is kept for another request: each goes to an address checked for that
        # send, under that send's host name. No proxy from the environment routes around it.
        self.client = httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False,
                                        limits=httpx.Limits(max_keepalive_connections=0))

    def request(self, delivery: Delivery, alerts: list[AlertView], secret: str,
                now: float | None = None) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(slack_body(alerts, self.public_url, delivery.digest)).encode()
        timestamp = int(time.time() if now is None else now)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Glassboard-Notifier/1",
            SIGNATURE_HEADER: sign(body, timestamp, secret),
            TIMESTAMP_HEADER: str(timestamp),
            DELIVERY_HEADER: str(delivery.message_key),
        }
        return body, headers

    async def _target(self, delivery: Delivery, where: str) -> WebhookTarget:
        """The delivery's URL with the addresses to call, checked now; DeliveryError if not."""
        try:
            return await resolve_target(delivery.target, production=self.production,
                                        timeout=self.timeout)
        except ValueError as exc:
            raise DeliveryError(f"webhook {where}: {exc}", permanent=True) from exc
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise DeliveryError(f"webhook {where}: the host does not resolve ({reason})",
                                permanent=False) from exc

    async def _post(self, target: WebhookTarget, body: bytes,
                    headers: dict[str, str]) -> httpx.Response:
        """POST to the checked addresses in turn, the next only when one refuses to connect."""
        *others, last = target.addresses
        for address in others:
            try:
                return await self._post_to(target, address, body, headers)
            except httpx.ConnectError:
                continue
        return await self._post_to(target, last, body, headers)

    async def _post_to(self, target: WebhookTarget, address: str, body: bytes,
                       headers: dict[str, str]) -> httpx.Response:
        url, host, tls = target.pinned(address)
        return await self.client.post(url, content=body, headers={**headers, **host},
                                      extensions=tls)

    async def send(self, delivery: Delivery, alerts: list[AlertView]) -> None:
        where = describe_target(delivery.target)
        key_id = await webhook_key(self.pool, delivery.recipient_email, delivery.target)
        if key_id is None:
            raise DeliveryError(f"webhook {where}: no longer the owner's webhook",
                                permanent=True)
        target = await self._target(delivery, where)
        body, headers = self.request(delivery, alerts,
                                     receiver_secret(self.master_secret, key_id))
        try:
            response = await self._post(target, body, headers)
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
