"""Share links: what every service agrees on (docs/share-links.md).

A rep sends an asset to a named recipient through ``/s/{id}`` on ingest. The id is the
whole secret: 22 url-safe characters from ``secrets`` (128 bits). Ingest records each
open as a ``view`` with ``source=share`` and the ``link_id``; the aggregator keeps each
counted open in ``link_visits`` and publishes its state on the ``link-visits`` topic as a
:class:`LinkVisitUpdate`, which the rep's live feed and the notifier's alerts read.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

__all__ = [
    "LINK_ID_PATTERN",
    "LinkVisitUpdate",
    "browser_key",
    "gate_email_hash",
    "new_link_id",
    "recipient_viewer_id",
]

LINK_ID_PATTERN = r"^[A-Za-z0-9_-]{22}$"


def new_link_id() -> str:
    return secrets.token_urlsafe(16)  # 16 bytes -> 22 characters


def browser_key(link_id: str, browser_cookie: str) -> str:
    """The browser id an event carries: the cookie's value hashed with the link, so a
    browser cannot be followed from one link to another."""
    return hashlib.sha256(f"{link_id}\x00{browser_cookie}".encode()).hexdigest()[:32]


def gate_email_hash(link_id: str, email: str) -> str:
    """A gate email, as events and tables keep it: hashed with the link, never in clear."""
    digest = hmac.new(link_id.encode(), email.strip().lower().encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def recipient_viewer_id(link_id: str, browser: str) -> str:
    """The viewer id of a share-link open: one per link and browser, so a forwarded
    viewer is never merged into the recipient (the recipient is the link's first
    browser; the aggregator tells which)."""
    return f"share:{link_id}:{browser[:12]}"


class LinkVisitUpdate(BaseModel):
    """One visit's state after an open or more engaged time; the newest per visit wins."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    schema_version: int = 1
    link_id: str = Field(pattern=LINK_ID_PATTERN)
    event_id: str = Field(description="The visit: the event_id of its open")
    asset_id: str
    creator_id: int
    opened_at: AwareDatetime
    #: This visit is the link's first counted open.
    first_open: bool
    #: The recipient's open before this one, if any (for "re-opened after N days").
    previous_open_at: AwareDatetime | None = None
    forwarded: bool
    forward_no: int | None = None
    device_class: str
    os: str | None = None
    browser: str | None = None
    engaged_ms: int = 0
    pages: list[int] = Field(default_factory=list)
    updated_at: datetime
