"""Import assets from a CSV file: all rows or none, every problem with its line number."""

from __future__ import annotations

import csv
import io

from pydantic import ValidationError

from .models import AssetIn, CatalogRefusal

__all__ = ["CsvRowError", "parse_assets_csv"]


class CsvRowError(CatalogRefusal):
    """Rows of the file that are not assets, each with its line number."""


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
