"""The ingest service's settings: the shared base plus the edge's own limits."""

from __future__ import annotations

from pydantic import Field, field_validator

from shared.rate_limits import LimitNotation
from shared.scanners import ScannerNetworks
from shared.settings import (
    FileStoreSettings,
    IngestUrlSettings,
    OpsAccessSettings,
    SigningSettings,
)

__all__ = ["IngestSettings"]


class IngestSettings(SigningSettings, IngestUrlSettings, OpsAccessSettings, FileStoreSettings):
    #: How often ingest refreshes its cached copy of the asset catalog.
    catalog_refresh_seconds: float = Field(2.0, gt=0, alias="CATALOG_REFRESH_SECONDS")
    #: How often ingest reloads the ingest keys' hashes: a revoked key is refused (403) at
    #: most this long after an admin revokes it.
    ingest_key_refresh_seconds: float = Field(5.0, gt=0, alias="INGEST_KEY_REFRESH_SECONDS")
    #: Upper bound on one POST /v1/events body; larger answers 413.
    max_body_bytes: int = Field(1_048_576, ge=1, alias="INGEST_MAX_BODY_BYTES")

    # Rate limits, in the `limits` library's notation ("N/minute; M/hour"), per client (a
    # daily-salted hash of the IP, never the IP) or per ingest key; over a limit → 429.
    #: Pixel and download-link hits per client. An office of 500 people behind one NAT,
    #: each opening 20 emails an hour with 10 tracked images: 500 × 20 × 10 = 100,000 hits
    #: an hour (1,667 a minute). If a third of them land in the first 10 minutes of the
    #: day, that is 3,333 a minute: 6,000/minute and 200,000/hour leave 1.8× and 2× room.
    rate_limit_pixel: LimitNotation = Field("6000/minute;200000/hour", alias="INGEST_RATE_LIMIT_PIXEL")
    #: Page-script events (views and dwell slices) per client, keyless POST /v1/events. The
    #: same 500 people with 5 tracked pages open each, one dwell slice every 15 s (the
    #: default heartbeat) per page: 500 × 5 × 4 = 10,000 events a minute, plus a view per
    #: page load: 20,000/minute is 2× that. (A site set to the 5 s minimum heartbeat needs
    #: 30,000: raise this.)
    rate_limit_beacon: LimitNotation = Field("20000/minute", alias="INGEST_RATE_LIMIT_BEACON")
    #: Views and downloads of ONE asset per client, on the pixel, download and keyless
    #: beacon paths together: the same 500 people all opening one email (its pixel) and
    #: its page (a view) in the same minute make 1,000; 1,200/minute leaves 20% room. One
    #: address then adds at most that many hits to an asset a minute, however it varies
    #: its User-Agent.
    rate_limit_asset: LimitNotation = Field("1200/minute", alias="INGEST_RATE_LIMIT_ASSET")
    #: Events per ingest key (POST /v1/events with a key), whatever its client. 60,000 a
    #: minute is one full 1,000-event batch a second: a month's back-fill of a tool with
    #: 10,000 users and 20 events a day each (6 M events) takes 100 minutes.
    rate_limit_api_key: LimitNotation = Field("60000/minute", alias="INGEST_RATE_LIMIT_API_KEY")
    #: Where the counters live. ``async+memory://``: each replica counts on its own, so N
    #: replicas behind a load balancer allow up to N× the limit. To share them, point every
    #: replica at one Redis: ``async+redis://redis:6379/0`` (needs ``limits[async-redis]``).
    rate_limit_storage_uri: str = Field("async+memory://", alias="INGEST_RATE_LIMIT_STORAGE_URI")

    #: Mail scanner ranges beyond the built-in list (shared/scanners.py), comma-separated
    #: CIDRs: hits from them are kept as ``suspect``.
    scanner_networks: str = Field("", alias="SCANNER_NETWORKS")

    #: A share link opened sooner than this after it was made (seconds) was fetched by a
    #: mail or chat scanner as it was sent: kept as ``suspect``, never an open.
    share_scanner_seconds: float = Field(5.0, ge=0, alias="SHARE_SCANNER_SECONDS")

    @field_validator("scanner_networks")
    @classmethod
    def _networks_parse(cls, value: str) -> str:
        ScannerNetworks(value.split(","))  # a typo stops the service, not every hit
        return value

