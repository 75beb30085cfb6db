"""The ingest service's settings: the shared base plus the edge's own limits."""

from __future__ import annotations

from pydantic import Field

from shared.settings import IngestUrlSettings, SigningSettings

__all__ = ["IngestSettings"]


class IngestSettings(SigningSettings, IngestUrlSettings):
    #: How often ingest refreshes its cached copy of the asset catalog.
    catalog_refresh_seconds: float = Field(2.0, gt=0, alias="CATALOG_REFRESH_SECONDS")
    #: Upper bound on one POST /v1/events body; larger answers 413.
    max_body_bytes: int = Field(1_048_576, ge=1, alias="INGEST_MAX_BODY_BYTES")
