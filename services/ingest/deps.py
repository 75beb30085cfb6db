"""The app-wide objects main.py puts on ``app.state``, typed for the routes."""

from __future__ import annotations

from fastapi import Request

from .pipeline import Pipeline
from .publisher import Publisher

__all__ = ["pipeline", "publisher"]


def pipeline(request: Request) -> Pipeline:
    return request.app.state.pipeline  # type: ignore[no-any-return]


def publisher(request: Request) -> Publisher:
    return request.app.state.publisher  # type: ignore[no-any-return]
