"""People and their roles, and the bodies of the sign-in and account APIs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.events import AssetId

__all__ = [
    "EMAIL_PATTERN",
    "ApiToken",
    "IngestKey",
    "IngestKeyIn",
    "MagicLinkIn",
    "NAME_PATTERN",
    "NEXT_PATTERN",
    "Role",
    "Scope",
    "TokenIn",
    "User",
    "UserIn",
    "safe_next",
]

#: No control character either: PostgreSQL refuses a NUL in text (a 500, found by fuzzing).
EMAIL_PATTERN = r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$"
#: A name: any text but control characters.
NAME_PATTERN = r"^[^\x00-\x1f\x7f]*$"
#: Where to go after signing in: a path on this site, "/" itself (the scoreboard) or "/x…",
#: never "//host" or "/\\host" (other sites), and no control character (a header split).
NEXT_PATTERN = r"^/([^/\\\x00-\x1f\x7f][^\x00-\x1f\x7f]*)?$"


def safe_next(value: str | None, default: str = "/app/") -> str:
    """``value`` if it is a path on this site (NEXT_PATTERN), else ``default``."""
    if value and len(value) <= 500 and re.fullmatch(NEXT_PATTERN, value):
        return value
    return default


class Role(StrEnum):
    SALES = "sales"
    MARKETING = "marketing"
    EXECUTIVE = "executive"
    #: Sees the share links of the users they manage (users.manager_id) in full.
    MANAGER = "manager"
    ADMIN = "admin"


class Scope(StrEnum):
    """What an API token may do. A session may do all three (its user's role permitting)."""

    #: GET and HEAD requests.
    READ = "read"
    #: Every other method (rate, edit, mark read, revoke...).
    WRITE = "write"
    #: Endpoints only admins may use (users, sessions of others, ingest keys).
    ADMIN = "admin"


@dataclass(frozen=True)
class User:
    id: int
    email: str
    name: str
    role: Role
    deactivated_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.deactivated_at is None

    def public(self) -> dict[str, object]:
        return {"id": self.id, "email": self.email, "name": self.name, "role": self.role.value,
                "active": self.active}


class MagicLinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(pattern=EMAIL_PATTERN, max_length=254)
    next: str = Field("/app/", pattern=NEXT_PATTERN, max_length=500)


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    email: str = Field(pattern=EMAIL_PATTERN, max_length=254)
    name: str = Field("", max_length=200, pattern=NAME_PATTERN)
    role: Role


class TokenIn(BaseModel):
    """A request for an API token: what it is for, what it may do, and until when."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=200, pattern=NAME_PATTERN)
    #: Least privilege by default: a token that only reads.
    scopes: list[Scope] = Field([Scope.READ], min_length=1, max_length=3)
    #: When it stops working; at most API_TOKEN_MAX_DAYS ahead. Default: 90 days from now.
    expires_at: AwareDatetime | None = None


@dataclass(frozen=True)
class ApiToken:
    """An API token as its owner and admins see it; the token itself is shown only once."""

    id: int
    user_id: int
    name: str
    scopes: tuple[Scope, ...]
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    def public(self) -> dict[str, object]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "id": self.id, "user_id": self.user_id, "name": self.name,
            "scopes": [s.value for s in self.scopes], "created_at": iso(self.created_at),
            "expires_at": iso(self.expires_at), "last_used_at": iso(self.last_used_at),
            "revoked_at": iso(self.revoked_at),
        }


class IngestKeyIn(BaseModel):
    """An admin's request for a new ingest key."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=200)
    #: What the key may do. ``events:write``, the one scope: ``POST /v1/events`` with
    #: ``source=api`` and the ``user_agent``/``viewer_id`` overrides (docs/tracking.md).
    scopes: list[Literal["events:write"]] = Field(["events:write"], min_length=1)
    #: None: every asset; else the only assets the key may send events for.
    asset_ids: list[AssetId] | None = Field(None, min_length=1, max_length=1000)


@dataclass(frozen=True)
class IngestKey:
    id: int
    name: str
    scopes: tuple[str, ...]
    asset_ids: tuple[str, ...] | None
    created_at: datetime
    revoked_at: datetime | None

    def public(self) -> dict[str, object]:
        return {
            "id": self.id, "name": self.name, "scopes": list(self.scopes),
            "asset_ids": None if self.asset_ids is None else list(self.asset_ids),
            "created_at": self.created_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }
