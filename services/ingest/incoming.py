"""What clients may send to ``POST /v1/events``: strict, so typos get a clear 422."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from shared.events import WATCHED_PATTERN, AssetId, ViewerIdField, refuse_nul

__all__ = ["MAX_EVENTS_PER_BATCH", "EventBatchIn", "EventIn", "check_event_time"]

MAX_EVENTS_PER_BATCH = 1000
#: Late events are accepted up to this age (offline beacons, batch back-fills).
MAX_EVENT_AGE = timedelta(days=31)
#: Clock skew tolerated for client-supplied event times.
MAX_CLOCK_SKEW = timedelta(minutes=5)
#: What a watch slice must carry (docs/viewer.md): the slice means nothing without any one.
_WATCH_FIELDS = ("play_id", "media_ms", "duration_ms", "watched")
_WATCH_ONLY = ("play_id", "media_ms", "watched")


class EventIn(BaseModel):
    """One event from the JS beacon or an integration."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["view", "download", "dwell", "play", "watch"]
    asset_id: AssetId
    event_id: UUID | None = Field(
        None, description="Set it to retry safely: an id is only ever counted once"
    )
    viewer_id: ViewerIdField | None = None
    occurred_at: AwareDatetime | None = None
    page: int | None = Field(None, ge=1, le=10_000)
    referrer: str | None = Field(None, max_length=2048)
    source: Literal["beacon", "api"] = "api"
    user_agent: str | None = Field(
        None, max_length=1024, description="The end user's UA, for server-side integrations"
    )
    view_id: UUID | None = None
    engaged_ms: int | None = Field(None, ge=0, le=3_600_000)
    wall_ms: int | None = Field(None, ge=0, le=3_600_000)
    play_id: UUID | None = Field(None, description="For watch: the play's event_id")
    media_ms: int | None = Field(None, ge=0, le=3_600_000)
    duration_ms: int | None = Field(None, ge=1, le=86_400_000)
    watched: str | None = Field(None, pattern=WATCHED_PATTERN,
                                description="For watch: 100 coverage bits, 25 hex digits")

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: object) -> object:
        return refuse_nul(data)

    @model_validator(mode="after")
    def _dwell_needs_time(self) -> EventIn:
        if self.type == "dwell" and self.engaged_ms is None and self.wall_ms is None:
            raise ValueError("a dwell event needs engaged_ms or wall_ms")
        if self.type != "dwell" and (self.engaged_ms is not None or self.wall_ms is not None):
            raise ValueError("engaged_ms and wall_ms belong to dwell events only")
        return self

    @model_validator(mode="after")
    def _video_fields_on_video_events(self) -> EventIn:
        if self.type == "watch":
            missing = [name for name in _WATCH_FIELDS if getattr(self, name) is None]
            if missing:
                raise ValueError(f"a watch event needs {', '.join(missing)}")
        elif self.type != "play" and self.duration_ms is not None:
            raise ValueError("duration_ms belongs to play and watch events only")
        if self.type != "watch" and any(getattr(self, n) is not None for n in _WATCH_ONLY):
            raise ValueError(f"{', '.join(_WATCH_ONLY)} belong to watch events only")
        return self


class EventBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[dict[str, object]] = Field(max_length=MAX_EVENTS_PER_BATCH)


def check_event_time(occurred_at: datetime, now: datetime) -> str | None:
    """Why a client-supplied event time is unacceptable, or None when it is fine."""
    if occurred_at > now + MAX_CLOCK_SKEW:
        return "occurred_at is in the future"
    if occurred_at < now - MAX_EVENT_AGE:
        return f"occurred_at is older than {MAX_EVENT_AGE.days} days"
    return None
