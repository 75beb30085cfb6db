"""The versioned event envelope that travels on the ``events`` topic.

Producers are strict (ingest builds only valid V1 envelopes); consumers are tolerant
(an unknown ``type`` is stored raw but counts towards nothing). A breaking change adds a
V2 model and a pure ``upcast_v1_v2`` function next to it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Annotated, Literal
from uuid import UUID, uuid4

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

__all__ = [
    "ASSET_ID_PATTERN",
    "EARLIEST_EVENT_TIME",
    "MAX_FUTURE_SKEW",
    "AssetId",
    "Device",
    "DeviceClass",
    "EventEnvelope",
    "EventType",
    "RejectReason",
    "contains_nul",
    "describe_errors",
    "in_sane_range",
    "refuse_nul",
    "RejectedEvent",
    "Source",
    "ViewerIdField",
    "WATCHED_PATTERN",
    "utcnow",
]

ASSET_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,79}$"
#: A play's coverage: one bit per 1% of the video (100 bits, 25 hex digits).
WATCHED_PATTERN = r"^[0-9a-f]{25}$"
AssetId = Annotated[str, StringConstraints(pattern=ASSET_ID_PATTERN)]
#: PostgreSQL text cannot hold NUL; a string with one would fail its whole batch at insert
#: time, so free-text fields refuse it by pattern (checked in Rust, ~3x cheaper than a
#: model-wide walk in Python on the aggregator's hot path).
NO_NUL = r"^[^\x00]*$"
ViewerIdField = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=NO_NUL)]
FreeText = Annotated[str, StringConstraints(max_length=255, pattern=NO_NUL)]


#: The sane range of every envelope date (consumers are tolerant: ingest itself accepts only
#: the last 31 days and 5 minutes of clock skew, well inside it). Anything outside is a
#: forged or corrupt record: year 1 with a +01:00 offset overflows on conversion to UTC.
EARLIEST_EVENT_TIME = datetime(2000, 1, 1, tzinfo=timezone.utc)
MAX_FUTURE_SKEW = timedelta(days=1)


def describe_errors(exc: ValidationError, whole: str = "body") -> str:
    """One line a person can act on: ``field.path: message; ...``, ``whole`` naming errors
    about the input as a whole."""
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or whole}: {err['msg']}" for err in exc.errors()
    )


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class EventType(StrEnum):
    VIEW = "view"
    DOWNLOAD = "download"
    DWELL = "dwell"
    RATING = "rating"
    #: A video started playing (its event_id is the play's id; docs/viewer.md).
    PLAY = "play"
    #: A slice of a play's watch time and the stretches of the video it has covered.
    WATCH = "watch"


class DeviceClass(StrEnum):
    DESKTOP = "desktop"
    TABLET = "tablet"
    PHONE = "phone"
    BOT = "bot"
    UNKNOWN = "unknown"


class Source(StrEnum):
    PIXEL = "pixel"
    BEACON = "beacon"
    API = "api"
    LINK = "link"
    #: An open of a share link (/s/{id}): a view whose viewer is the link's recipient.
    SHARE = "share"


class RejectReason(StrEnum):
    UNKNOWN_ASSET = "unknown_asset"
    BOT = "bot"
    INVALID = "invalid"
    RATE_LIMITED = "rate_limited"
    #: Apple Mail Privacy Protection fetched the pixel: shown as a machine open.
    MACHINE_OPEN = "machine_open"
    #: A link scanner's hit (shared/scanners.py): kept, with its reason, out of the counts.
    SUSPECT = "suspect"


def in_sane_range(value: datetime) -> datetime:
    """``value`` in UTC, if it lies in 2000-01-01 .. now + 1 day; a ValueError otherwise."""
    try:
        utc = value.astimezone(timezone.utc)
    except OverflowError:
        raise ValueError("date is out of range (2000-01-01 .. now + 1 day)") from None
    if not EARLIEST_EVENT_TIME <= utc <= utcnow() + MAX_FUTURE_SKEW:
        raise ValueError("date is out of range (2000-01-01 .. now + 1 day)")
    return utc


def contains_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(contains_nul(v) for v in value)
    return False


def refuse_nul(data: object) -> object:
    """PostgreSQL text and jsonb cannot hold NUL: such an event would fail its whole batch
    at insert time, so it is refused at the edge and on decoding."""
    if contains_nul(data):
        raise ValueError("text must not contain NUL (\\u0000) characters")
    return data


def _scrub_nul(value: object) -> object:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_scrub_nul(k): _scrub_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_nul(v) for v in value]
    return value


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Device(_Frozen):
    """What the User-Agent says about the device, parsed by Matomo's Device Detector."""

    device_class: DeviceClass = Field(
        DeviceClass.UNKNOWN, description="desktop, tablet, phone, bot or unknown"
    )
    os: FreeText | None = Field(None, max_length=64, examples=["iOS"])
    browser: FreeText | None = Field(None, max_length=64, examples=["Mobile Safari"])


class EventEnvelope(_Frozen):
    """One tracking or rating event, version 1."""

    event_id: UUID = Field(
        default_factory=uuid4, description="Idempotency key: an event is counted once per id"
    )
    schema_version: Literal[1] = Field(1, description="Envelope version")
    type: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]{0,31}$")] = Field(
        description="view, download, dwell, play, watch or rating; consumers ignore types "
                    "they do not know",
        examples=["view"],
    )
    asset_id: AssetId = Field(description="Slug of the asset", examples=["pricing-sheet-2026"])
    viewer_id: ViewerIdField | None = Field(
        None,
        description="Who viewed or acted: a known id, or a daily-salted hash; null under DNT/GPC",
    )
    occurred_at: AwareDatetime = Field(description="Event time, UTC")
    received_at: AwareDatetime = Field(default_factory=utcnow, description="When ingest got it")
    device: Device = Field(default_factory=Device)
    page: int | None = Field(None, ge=1, le=10_000, description="Page of a multi-page document")
    referrer_host: FreeText | None = Field(None, examples=["mail.google.com"])
    source: Source = Field(description="pixel, beacon, api, link or share")
    view_id: UUID | None = Field(
        None, description="For dwell: the event_id of the view this time belongs to"
    )
    engaged_ms: int | None = Field(
        None, ge=0, le=3_600_000, description="For dwell: visible and focused time in this slice"
    )
    wall_ms: int | None = Field(
        None, ge=0, le=3_600_000, description="For dwell: wall-clock time in this slice"
    )
    stars: int | None = Field(
        None, ge=1, le=5, description="For rating: the rater's stars now; null = withdrawn"
    )
    previous_stars: int | None = Field(
        None, ge=1, le=5, description="For rating: the stars this rating replaces, if any"
    )
    previous_rated_at: AwareDatetime | None = Field(
        None, description="For rating: when the replaced rating was given"
    )
    play_id: UUID | None = Field(
        None, description="For watch: the event_id of the play this slice belongs to")
    media_ms: int | None = Field(
        None, ge=0, le=3_600_000,
        description="For watch: time the video played while in view in this slice")
    duration_ms: int | None = Field(
        None, ge=1, le=86_400_000, description="For play and watch: the video's length")
    watched: str | None = Field(
        None, pattern=WATCHED_PATTERN,
        description="For watch: 100 bits in 25 hex digits, bit i (most significant first) "
                    "set when the play has covered the i-th 1% of the video; cumulative, "
                    "merged by OR, so a repeated slice changes nothing")
    has_comment: bool = Field(False, description="For rating: the rater explained why")
    link_id: str | None = Field(
        None, pattern=r"^[A-Za-z0-9_-]{22}$",
        description="For a share-link open (source share) and the page script's events after "
                    "it: the link, from ingest's cache, never from a client's say-so")
    browser_key: str | None = Field(
        None, pattern=r"^[0-9a-f]{32}$",
        description="For a share-link open: the hashed first-party browser id (forwards)")
    gate_email_hash: str | None = Field(
        None, pattern=r"^[0-9a-f]{32}$",
        description="For a share-link open behind an email gate: the email given, hashed")

    @field_validator("occurred_at", "received_at", "previous_rated_at")
    @classmethod
    def _in_utc(cls, value: datetime | None) -> datetime | None:
        # Days are UTC days everywhere: an event sent with a +05:00 offset must land on the
        # same day bucket as the same instant sent in UTC.
        return in_sane_range(value) if value is not None else None


class RejectedEvent(_Frozen):
    """A hit the pipeline refused to count, kept with its reason (Snowplow's failed events)."""

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: object) -> object:
        # A rejection must always be storable, whatever garbage it describes.
        return _scrub_nul(data)

    event_id: UUID = Field(default_factory=uuid4)
    reason: RejectReason
    detail: str = Field("", max_length=500)
    asset_id: str | None = Field(None, max_length=200)
    source: Source | None = None
    received_at: AwareDatetime = Field(default_factory=utcnow)
    payload: dict[str, object] = Field(
        default_factory=dict, description="The hit as received, without IP or raw User-Agent"
    )

    @field_validator("received_at")
    @classmethod
    def _in_utc(cls, value: datetime) -> datetime:
        return in_sane_range(value)
