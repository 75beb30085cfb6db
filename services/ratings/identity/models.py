"""People and their roles, and the bodies of the sign-in and account APIs."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["EMAIL_PATTERN", "MagicLinkIn", "Role", "TokenIn", "User", "UserIn"]

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
