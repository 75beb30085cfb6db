"""The shape of an asset's file versions in the API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

__all__ = ["FileVersion", "FileVersions"]


class FileVersion(BaseModel):
    version: int
    pages: int
    bytes: int
    sha256: str
    filename: str | None
    content_type: str
    uploaded_by: int | None
    uploaded_at: datetime


class FileVersions(BaseModel):
    #: Newest first: the first is what the viewer shows.
    files: list[FileVersion]
