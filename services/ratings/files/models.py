"""The shape of an asset's file versions in the API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

__all__ = ["FileVersion", "FileVersions"]


class FileVersion(BaseModel):
    version: int
    #: A PDF's page count; null for a video.
    pages: int | None
    #: A video's length; null for a PDF.
    duration_ms: int | None
    bytes: int
    sha256: str
    filename: str | None
    #: ``application/pdf`` or ``video/mp4``.
    content_type: str
    uploaded_by: int | None
    uploaded_at: datetime


class FileVersions(BaseModel):
    #: Newest first: the first is what the viewer shows.
    files: list[FileVersion]
