"""The asset catalog's shape and validation."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, HttpUrl, StringConstraints

from shared.events import AssetId

from ..identity.models import EMAIL_PATTERN

__all__ = ["ASSET_TYPES", "STAGES", "AssetIn", "AssetType", "CatalogRefusal", "Stage", "Tag"]

ASSET_TYPES = ("product_sheet", "case_study", "blog_post", "video", "deck", "other")
STAGES = ("awareness", "consideration", "decision", "onboarding")
AssetType = Literal["product_sheet", "case_study", "blog_post", "video", "deck", "other"]
Stage = Literal["awareness", "consideration", "decision", "onboarding"]
Tag = Annotated[
    str,
    BeforeValidator(lambda v: v.strip().lower() if isinstance(v, str) else v),
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9 _-]{0,39}$"),
]


class AssetIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: AssetId = Field(description="Slug: lowercase letters, digits, - and _",
                        examples=["pricing-sheet-2026"])
    title: str = Field(min_length=1, max_length=300)
    type: AssetType
    url: HttpUrl = Field(description="Where the asset lives; downloads redirect here")
    owner_email: str = Field(pattern=EMAIL_PATTERN, max_length=254,
                             description="The owner: an existing user (no account is "
                             "ever created here); only an admin changes it")
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    stage: Stage | None = Field(None, description="Funnel stage the asset serves")


class CatalogRefusal(ValueError):
    """Why a write to the catalog was refused as a whole, one line per problem: nothing
    was written."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors
