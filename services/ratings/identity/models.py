"""People and their roles, and the bodies of the sign-in and account APIs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.events import AssetId

__all__ = [
    "EMAIL_PATTERN",
    "IngestKey",
    "IngestKeyIn",
    "MagicLinkIn",
    "Role",
    "TokenIn",
    "User",
    "UserIn",
]

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class Role(StrEnum):
    SALES = "sales"
    MARKETING = "marketing"
    EXECUTIVE = "executive"
    ADMIN = "admin"


@dataclass(frozen=True)
class User:
    id: int
    email: str
    name: str
    role: Role

    def public(self) -> dict[str, object]:
        return {"id": self.id, "email": self.email, "name": self.name, "role": self.role.value}


class MagicLinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(pattern=EMAIL_PATTERN, max_length=254)
    # A path on this site: "/" itself (the scoreboard) or "/x…", never "//host" or "/\\host".
    next: str = Field("/app/", pattern=r"^/([^/\\]|$)", max_length=500)


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    email: str = Field(pattern=EMAIL_PATTERN, max_length=254)
    name: str = Field("", max_length=200)
    role: Role


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field("", max_length=200)


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
