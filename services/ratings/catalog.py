"""The asset catalog's shape and validation."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    HttpUrl,
    StringConstraints,
    ValidationError,
)

from shared.events import AssetId

__all__ = ["ASSET_TYPES", "STAGES", "AssetIn", "CsvRowError", "parse_assets_csv"]

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
    owner_email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254,
                             description="The owner; becomes a marketing user if new")
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    stage: Stage | None = Field(None, description="Funnel stage the asset serves")


class CsvRowError(ValueError):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def parse_assets_csv(text: str) -> list[AssetIn]:
    """Every row of a CSV with columns id,title,type,url,owner_email (and optionally tags,
    separated by ';', and stage), or every problem with its line number: all or nothing."""
    reader = csv.DictReader(io.StringIO(text))
    required = {"id", "title", "type", "url", "owner_email"}
    missing = required - set(reader.fieldnames or ())
    if missing:
        raise CsvRowError([f"missing columns: {', '.join(sorted(missing))}"])
    assets: list[AssetIn] = []
    errors: list[str] = []
    for line, row in enumerate(reader, start=2):
        fields: dict[str, object] = {k: row[k] for k in required}
        if (row.get("tags") or "").strip():
            fields["tags"] = [t.strip() for t in row["tags"].split(";") if t.strip()]
        if (row.get("stage") or "").strip():
            fields["stage"] = row["stage"].strip()
        try:
            assets.append(AssetIn.model_validate(fields))
        except ValidationError as exc:
            problems = ", ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())
            errors.append(f"line {line}: {problems}")
    if errors:
        raise CsvRowError(errors)
    return assets
