"""The app-wide objects main.py puts on ``app.state``, typed for the routes."""

from __future__ import annotations

from fastapi import Request

from .keys import IngestKeys
from .pipeline import Pipeline
from .publisher import Publisher
from .throttle import Throttle

__all__ = ["keys", "pipeline", "publisher", "throttle"]


def pipeline(request: Request) -> Pipeline:
    return request.app.state.pipeline  # type: ignore[no-any-return]


def publisher(request: Request) -> Publisher:
    return request.app.state.publisher  # type: ignore[no-any-return]


def keys(request: Request) -> IngestKeys:
    return request.app.state.keys  # type: ignore[no-any-return]


def throttle(request: Request) -> Throttle:
    return request.app.state.throttle  # type: ignore[no-any-return]
