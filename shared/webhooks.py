"""Webhook URLs people may register, and the signature every webhook body carries. Pure;
shared because the ratings app accepts the URLs the notifier calls.

The ratings API validates URLs with the same function the notifier trusts, so a URL that
was accepted is one the notifier will call. In production only https is allowed, and
never a literal loopback, private or link-local address (a webhook must not become a way
to reach the notifier's own network).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from urllib.parse import urlsplit

__all__ = [
    "MAX_URL_LENGTH",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "DELIVERY_HEADER",
    "describe_target",
    "sign",
    "validate_webhook_url",
    "verify",
]

MAX_URL_LENGTH = 2000
SIGNATURE_HEADER = "X-Glassboard-Signature"
TIMESTAMP_HEADER = "X-Glassboard-Timestamp"
#: The same for every attempt at one delivery: receivers de-duplicate on it.
DELIVERY_HEADER = "X-Glassboard-Delivery"


def validate_webhook_url(url: str, *, production: bool) -> str:
    """The URL, stripped, if it may receive webhooks; ValueError saying why not."""
    url = url.strip()
    if not url:
        raise ValueError("the webhook URL is empty")
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"the webhook URL is longer than {MAX_URL_LENGTH} characters")
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise ValueError("the webhook URL must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"the webhook URL is not a valid URL: {exc}") from exc
    allowed = ("https",) if production else ("https", "http")
    if parts.scheme not in allowed:
        wanted = "https://" if production else "https:// or http://"
        raise ValueError(f"the webhook URL must start with {wanted}")
    if not parts.hostname:
        raise ValueError("the webhook URL has no host name")
    if parts.username is not None or parts.password is not None:
        raise ValueError("the webhook URL must not contain a user name or password")
    if port == 0:
        raise ValueError("the webhook URL's port must be between 1 and 65535")
    if production:
        host = parts.hostname
        if host == "localhost" or host.endswith(".localhost"):
            raise ValueError("the webhook URL must not point at this machine")
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            address = None
        if address is not None and not address.is_global:
            raise ValueError("the webhook URL must not point at a private, loopback or "
                             "link-local address")
    return url


def describe_target(url: str) -> str:
    """What logs and error messages may show of a webhook URL: its scheme and host only
    (Slack-style URLs carry their secret in the path)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}/…"


def sign(body: bytes, secret: str) -> str:
    """The ``X-Glassboard-Signature`` value: ``sha256=`` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, header: str, secret: str) -> bool:
    """What a receiver does: recompute and compare in constant time."""
    return hmac.compare_digest(sign(body, secret), header.strip())
