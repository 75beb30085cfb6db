"""Webhook URLs people may register, where a webhook may connect, each receiver's secret, and
the signature every webhook carries. Shared because the ratings app accepts the URLs (and
shows each owner their secret) that the notifier calls and signs for.

The ratings API validates URLs with the same functions the notifier trusts, so a URL that
was accepted is one the notifier will call. In production only https is allowed, and never
an address that is not public: not as a literal in any spelling (``https://2130706433/``,
``https://0x7f.1/`` ... are how browsers and ``inet_aton`` read 127.0.0.1), and not as a
name that resolves to one. The notifier resolves the host when it sends, refuses if any
address is not public, then connects to a checked address itself (the URL's name stays in
the Host header and in TLS SNI and certificate checks), so DNS cannot answer differently
a second time (docs/security.md, "Webhooks").

Each receiver has its own secret, derived from WEBHOOK_SIGNING_SECRET and a random key id
stored with the URL: the database alone never holds a secret, and a new URL or a rotation
gives a new one. The signature covers the timestamp and the body, so a captured request
cannot be replayed later with a fresh timestamp.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import re
import socket
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from .settings import secret_problem

__all__ = [
    "DELIVERY_HEADER",
    "DEV_WEBHOOK_SECRET",
    "MAX_URL_LENGTH",
    "RECEIVER_SECRET_PREFIX",
    "SIGNATURE_HEADER",
    "SIGNATURE_TOLERANCE_SECONDS",
    "TIMESTAMP_HEADER",
    "WebhookTarget",
    "describe_target",
    "master_secret",
    "public_address",
    "receiver_secret",
    "resolve_target",
    "sign",
    "validate_webhook_url",
    "verify",
]

MAX_URL_LENGTH = 2000
SIGNATURE_HEADER = "X-Glassboard-Signature"
TIMESTAMP_HEADER = "X-Glassboard-Timestamp"
#: The same for every attempt at one delivery: receivers de-duplicate on it.
DELIVERY_HEADER = "X-Glassboard-Delivery"
#: What a receiver should accept between our clock and its own: 5 minutes either way
#: (clock drift plus one delivery timeout, well under the shortest retry backoff cap).
SIGNATURE_TOLERANCE_SECONDS = 300
#: Derives receivers' secrets in development only; production refuses to run without a
#: real WEBHOOK_SIGNING_SECRET.
DEV_WEBHOOK_SECRET = "dev-insecure-webhook-secret"
#: Marks a receiver's secret, as gbt_ marks API tokens.
RECEIVER_SECRET_PREFIX = "gbwh_"

_SIGNATURE_VERSION = "v1"
_RECEIVER_LABEL = b"glassboard/webhook-receiver/v1:"
# One part of a numeric IPv4 host as inet_aton and the WHATWG URL parser read it.
_NUMBER = re.compile(r"^(?:0x[0-9a-f]*|0[0-7]*|[1-9][0-9]*)$", re.IGNORECASE)
# NAT64 (RFC 6052): the well-known prefix embeds an IPv4 address in its low 32 bits; the
# local-use prefix is some network's own translator, never a public destination.
_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def public_address(address: Address) -> bool:
    """Whether a webhook may go to ``address``: global unicast, and so is any IPv4 address
    an IPv6 one carries (mapped, 6to4, Teredo, NAT64). ``is_global`` alone lets multicast
    and ``64:ff9b::7f00:1`` (127.0.0.1 through NAT64) through."""
    if address.is_multicast or not address.is_global:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        if address in _NAT64_LOCAL:
            return False
        inner = address.ipv4_mapped or address.sixtofour or (
            address.teredo[1] if address.teredo else None)
        if inner is None and address in _NAT64_WELL_KNOWN:
            inner = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if inner is not None:
            return public_address(inner)
    return True


def _numeric_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address a host of one to four numbers stands for (decimal, 0-octal or
    0x-hex; the last part fills the remaining bytes), or None when it is not one."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(_NUMBER.match(p) for p in parts):
        return None
    values = [int(p[2:] or "0", 16) if p[:2].lower() == "0x" else int(p, 8 if p[0] == "0" else 10)
              for p in parts]
    *leading, last = values
    if any(v > 255 for v in leading) or last >= 256 ** (5 - len(parts)):
        return None
    number = last
    for i, value in enumerate(leading):
        number += value << (8 * (3 - i))
    return ipaddress.IPv4Address(number)


def _literal_address(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return _numeric_ipv4(host)


def validate_webhook_url(url: str, *, production: bool) -> str:
    """The URL, stripped, if it may receive webhooks; ValueError saying why not. Pure: the
    host's name is resolved by ``resolve_target``."""
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
        host = parts.hostname.removesuffix(".")
        if host == "localhost" or host.endswith(".localhost"):
            raise ValueError("the webhook URL must not point at this machine")
        address = _literal_address(host)
        if address is not None and not public_address(address):
            raise ValueError("the webhook URL must not point at a private, loopback or "
                             "link-local address")
    try:
        httpx.URL(url)  # what the notifier sends with: it must read the URL too
    except httpx.InvalidURL as exc:
        raise ValueError(f"the webhook URL is not a valid URL: {exc}") from exc
    return url


@dataclass(frozen=True)
class WebhookTarget:
    """A validated webhook URL and the addresses its host had when checked: the only ones
    a sender may connect to."""

    url: str
    addresses: tuple[str, ...]

    def pinned(self, address: str) -> tuple[str, dict[str, str], dict[str, str]]:
        """The URL with ``address`` in place of the host, plus the Host header and the TLS
        server name (SNI, and what the certificate must name) of the original host: a
        connection to the checked address that still talks to the named site."""
        url = httpx.URL(self.url)
        headers = {"Host": url.netloc.decode("ascii")}
        extensions = {"sni_hostname": url.raw_host.decode("ascii")}
        return str(url.copy_with(host=address)), headers, extensions


async def resolve_target(url: str, *, production: bool, timeout: float) -> WebhookTarget:
    """The URL, validated, and the addresses its host resolves to. In production every one
    of them must be public (a DNS answer may mix a public and a private address):
    ValueError says why not. OSError (TimeoutError included) when the name does not
    resolve now, which may pass."""
    url = validate_webhook_url(url, production=production)
    parsed = httpx.URL(url)
    host = parsed.raw_host.decode("ascii")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    loop = asyncio.get_running_loop()
    infos = await asyncio.wait_for(
        loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout)
    addresses = tuple(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise OSError(f"{host} has no address")
    if production:
        for address in addresses:
            if not public_address(ipaddress.ip_address(address)):
                raise ValueError(f"the webhook host {host} resolves to {address}, which is "
                                 "not a public address")
    return WebhookTarget(url, addresses)


def describe_target(url: str) -> str:
    """What logs and error messages may show of a webhook URL: its scheme and host only
    (Slack-style URLs carry their secret in the path)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}/…"


# --- secrets and signatures ---------------------------------------------------------------

def master_secret(configured: str, *, production: bool) -> str:
    """The secret receivers' secrets derive from: WEBHOOK_SIGNING_SECRET, or in development
    the built-in one when it is empty. ValueError in production when it cannot be one."""
    if production and (problem := secret_problem(configured)):
        raise ValueError(f"WEBHOOK_SIGNING_SECRET {problem}")
    return configured or DEV_WEBHOOK_SECRET


def receiver_secret(master: str, key_id: uuid.UUID) -> str:
    """One receiver's secret: HMAC-SHA256 of its key id under the master secret, URL-safe
    base64 after ``gbwh_``. The key id alone (what the database stores) reveals nothing."""
    digest = hmac.new(master.encode(), _RECEIVER_LABEL + key_id.bytes, hashlib.sha256).digest()
    return RECEIVER_SECRET_PREFIX + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(body: bytes, timestamp: int, secret: str) -> str:
    """The ``X-Glassboard-Signature`` value: ``v1=`` and the hex HMAC-SHA256, keyed by the
    receiver's secret (as shown, prefix included), of ``f"{timestamp}."`` and the body."""
    message = str(int(timestamp)).encode() + b"." + body
    return f"{_SIGNATURE_VERSION}=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(body: bytes, timestamp: str, signature: str, secret: str, *,
           now: float | None = None, tolerance: float = SIGNATURE_TOLERANCE_SECONDS) -> bool:
    """What a receiver does: refuse a timestamp outside ``tolerance`` of its clock, then
    recompute the signature and compare in constant time."""
    stamp = timestamp.strip()
    if not stamp.isascii() or not stamp.isdigit():
        return False
    if abs((time.time() if now is None else now) - int(stamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(body, int(stamp), secret), signature.strip())
