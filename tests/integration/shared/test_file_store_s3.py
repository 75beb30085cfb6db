"""The S3 file store (shared/files.py) against an S3 implementation running here, offline:
moto's server on a local port, reached over HTTP by boto3 as any S3-compatible endpoint
(MinIO, R2) would be. Then the whole upload path of the ratings app with FILES_STORAGE=s3."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from harness.db import fetchval
from harness.pdfs import blank_pdf
from harness.stack import Stack
from shared.embedded import free_port
from shared.files import LocalFileStore, S3FileStore, make_file_store
from shared.settings import FileStoreSettings, SettingsError, load_settings

BUCKET = "glassboard-files"
REGION = "eu-west-1"


@pytest.fixture
def s3_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh moto S3 server with one bucket; boto3 finds the credentials in the usual
    AWS_* variables, as in production."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        # moto keeps its buckets in the process, across servers: start from none.
        httpx.post(f"{endpoint}/moto-api/reset").raise_for_status()
        _client(endpoint).create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        yield endpoint
    finally:
        server.stop()


def _client(endpoint: str) -> Any:
    return boto3.client("s3", endpoint_url=endpoint, region_name=REGION)


def _s3_settings(endpoint: str, **values: Any) -> dict[str, Any]:
    return {"files_storage": "s3", "files_s3_bucket": BUCKET,
            "files_s3_endpoint_url": endpoint, "files_s3_region": REGION, **values}


async def test_put_then_get_round_trips_through_s3(s3_endpoint: str) -> None:
    store = make_file_store(FileStoreSettings(**_s3_settings(s3_endpoint)))
    assert isinstance(store, S3FileStore)
    data = blank_pdf(2) + bytes(range(256))
    await store.put("assets/deck/abc.pdf", data, "application/pdf")
    assert await store.get("assets/deck/abc.pdf") == data
    assert await store.get("assets/deck/missing.pdf") is None
    stored = _client(s3_endpoint).head_object(Bucket=BUCKET, Key="assets/deck/abc.pdf")
    assert stored["ContentType"] == "application/pdf"
    assert stored["ContentLength"] == len(data)
    # A key is rewritten whole.
    await store.put("assets/deck/abc.pdf", b"%PDF-new", "application/pdf")
    assert await store.get("assets/deck/abc.pdf") == b"%PDF-new"


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a//b", "a/./b", "a/../b", "",
                                 "a b", "a\\b", "x" * 301])
async def test_keys_that_could_leave_the_store_are_refused(
    key: str, tmp_path: Any, s3_endpoint: str,
) -> None:
    s3 = S3FileStore(BUCKET, endpoint_url=s3_endpoint, region=REGION)
    for store in (LocalFileStore(tmp_path / "files"), s3):
        with pytest.raises(ValueError, match="not a file store key"):
            await store.put(key, b"%PDF-", "application/pdf")
        with pytest.raises(ValueError, match="not a file store key"):
            await store.get(key)
    assert not (tmp_path / "files").exists()
    assert "Contents" not in _client(s3_endpoint).list_objects_v2(Bucket=BUCKET)


def test_s3_needs_a_bucket_and_local_is_the_default() -> None:
    with pytest.raises(SettingsError, match="FILES_S3_BUCKET must be set"):
        load_settings(FileStoreSettings, "ratings app", files_storage="s3")
    with pytest.raises(SettingsError, match="FILES_STORAGE"):
        load_settings(FileStoreSettings, "ratings app", files_storage="ftp")
    default = FileStoreSettings()
    assert isinstance(make_file_store(default), LocalFileStore)
    assert (default.files_dir, default.files_max_bytes) == (".glassboard/files", 25 * 1024**2)


async def test_an_upload_to_the_ratings_app_lands_in_the_bucket(
    stack: Stack, s3_endpoint: str,
) -> None:
    stack.settings = stack.settings.model_copy(update=_s3_settings(s3_endpoint))
    await stack.ratings()
    await stack.add_asset("launch-deck")
    data = blank_pdf(4)
    async with await stack.client("admin") as admin:
        r = await admin.post("/v1/assets/launch-deck/files", content=data,
                             headers={"content-type": "application/pdf"})
        assert r.status_code == 201, r.text
        assert r.json()["pages"] == 4
    key = await fetchval(stack.settings, "SELECT storage_key FROM asset_files")
    assert key == f"assets/launch-deck/{hashlib.sha256(data).hexdigest()}.pdf"
    body = _client(s3_endpoint).get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert body == data
