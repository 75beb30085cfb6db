"""Where the bytes of uploaded files live: a local folder by default, S3-compatible storage
in production (FILES_STORAGE). Ratings writes them (asset uploads), ingest reads them (the
viewer); both only know the ``FileStore`` protocol and a key such as
``assets/pricing-sheet/<sha256>.pdf``.

Keys are written once and never changed: a new version of a file gets a new key, so a
reader holding an old key still reads the bytes it expected.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Protocol

from .settings import FileStoreSettings

__all__ = ["FileStore", "LocalFileStore", "S3FileStore", "check_key", "make_file_store"]

#: Slash-separated segments of letters, digits, ``.``, ``_`` and ``-``, none of them ``.``
#: or ``..``: a key can never leave the store's folder or prefix.
_KEY = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*")


def check_key(key: str) -> str:
    """``key`` when it is a safe relative key, else ValueError (keys are made by code, so a
    bad one is a bug, never a client's input)."""
    if len(key) > 300 or not _KEY.fullmatch(key):
        raise ValueError(f"not a file store key: {key[:80]!r}")
    return key


class FileStore(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key`` (replacing what was there: keys are content-named)."""

    async def get(self, key: str) -> bytes | None:
        """The bytes under ``key``, or None when there are none."""


class LocalFileStore:
    """Files under ``root``: for development and single-host installs."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._write, self._path(key), data)

    async def get(self, key: str) -> bytes | None:
        return await asyncio.to_thread(self._read, self._path(key))

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        # Written beside, then renamed: a reader never sees half a file.
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    @staticmethod
    def _read(path: Path) -> bytes | None:
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None


class S3FileStore:
    """Files in an S3 bucket, or any S3-compatible store (MinIO, R2, moto) at
    ``endpoint_url``. Credentials come from boto3's usual chain (AWS_ACCESS_KEY_ID and
    AWS_SECRET_ACCESS_KEY, a profile, an instance role). boto3 blocks, so every call runs in
    a thread; its client is thread-safe."""

    def __init__(self, bucket: str, *, endpoint_url: str | None = None,
                 region: str | None = None, client: Any = None) -> None:
        import boto3  # only deployments that use S3 pay for importing it

        self.bucket = bucket
        self.client = client or boto3.client("s3", endpoint_url=endpoint_url or None,
                                             region_name=region or None)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        key = check_key(key)
        await asyncio.to_thread(self.client.put_object, Bucket=self.bucket, Key=key, Body=data,
                                ContentType=content_type)

    async def get(self, key: str) -> bytes | None:
        return await asyncio.to_thread(self._read, check_key(key))

    def _read(self, key: str) -> bytes | None:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=key)
        except self.client.exceptions.NoSuchKey:
            return None
        return bytes(answer["Body"].read())


def make_file_store(settings: FileStoreSettings) -> FileStore:
    """The store FILES_STORAGE names."""
    if settings.files_storage == "s3":
        return S3FileStore(settings.files_s3_bucket, endpoint_url=settings.files_s3_endpoint_url,
                           region=settings.files_s3_region)
    return LocalFileStore(settings.files_dir)
