"""Files of assets (issue 14): marketing uploads a PDF to an asset and later new versions,
through the ratings app on the real broker and PostgreSQL, into the local file store.
Refused: over FILES_MAX_BYTES (413, before the body is all read), not a PDF that may be
served (422), not sent as a PDF (415), anyone but the asset's owner or an admin (403)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

import httpx
import pytest

from harness.db import fetch
from harness.pdfs import attached_file_pdf, blank_pdf, encrypted_pdf, open_action_pdf
from harness.raw_http import send_body
from harness.stack import Stack

MIA, MAX = "mia@example.com", "max@example.com"
ASSET = {"id": "pricing-sheet", "title": "Pricing sheet", "type": "product_sheet",
         "url": "https://cdn.example.com/pricing.pdf", "owner_email": MIA}
PDF = {"content-type": "application/pdf"}
MIB = 1024 * 1024
FILES = "/v1/assets/pricing-sheet/files"


@pytest.fixture
def files_dir(stack: Stack, tmp_path: Path) -> Path:
    """This test's own file store folder."""
    folder = tmp_path / "files"
    stack.settings = stack.settings.model_copy(update={"files_dir": str(folder)})
    return folder


async def _asset_of_mia(stack: Stack) -> str:
    """Mia (marketing) and her asset; her API token."""
    _, mia = await stack.user(MIA, "marketing")
    async with stack.client_for(mia) as owner:
        assert (await owner.post("/v1/assets", json=ASSET)).status_code == 201
    return mia


async def _upload(client: httpx.AsyncClient, data: bytes, **params: str) -> httpx.Response:
    return await client.post(FILES, content=data, headers=PDF, params=params)


async def test_uploads_make_versions_and_the_asset_keeps_its_links(
    stack: Stack, files_dir: Path,
) -> None:
    await stack.ratings()
    mia = await _asset_of_mia(stack)
    first, second = blank_pdf(5), blank_pdf(3)
    async with stack.client_for(mia) as owner:
        r = await _upload(owner, first, filename="Pricing 2026.pdf")
        assert r.status_code == 201, r.text
        assert r.json() == {"version": 1, "content_type": "application/pdf", "pages": 5,
                            "duration_ms": None, "bytes": len(first),
                            "sha256": hashlib.sha256(first).hexdigest()}
        r = await _upload(owner, second)
        assert r.status_code == 201 and r.json()["version"] == 2 and r.json()["pages"] == 3
        # The same bytes again are a new version too (a marketer rolling back).
        r = await _upload(owner, first)
        assert r.status_code == 201 and r.json()["version"] == 3

        listed = (await owner.get(FILES)).json()["files"]
        assert [(f["version"], f["pages"], f["filename"]) for f in listed] == [
            (3, 5, None), (2, 3, None), (1, 5, "Pricing 2026.pdf")]
        assert {f["content_type"] for f in listed} == {"application/pdf"}
        asset = (await owner.get("/v1/assets/pricing-sheet")).json()
        assert asset["url"] == ASSET["url"]
    # Each version's bytes are in the store under its content-named key: versions 1 and
    # 3 share one file.
    rows = await fetch(stack.settings, "SELECT version, storage_key, sha256 FROM asset_files "
                                       "ORDER BY version")
    for row, data in zip(rows, (first, second, first), strict=True):
        assert row["storage_key"] == f"assets/pricing-sheet/{row['sha256']}.pdf"
        assert (files_dir / row["storage_key"]).read_bytes() == data
    assert len(list((files_dir / "assets" / "pricing-sheet").iterdir())) == 2
    async with await stack.client("sales") as sales:
        assert [f["version"] for f in (await sales.get(FILES)).json()["files"]] == [3, 2, 1]
        assert (await sales.get("/v1/assets/nope/files")).status_code == 404


async def test_uploads_at_once_take_turns_and_get_one_version_each(
    stack: Stack, files_dir: Path,
) -> None:
    await stack.ratings()
    mia = await _asset_of_mia(stack)
    async with stack.client_for(mia) as owner:
        answers = await asyncio.gather(*(_upload(owner, blank_pdf(n)) for n in range(1, 7)))
    assert [r.status_code for r in answers] == [201] * 6
    assert sorted(r.json()["version"] for r in answers) == [1, 2, 3, 4, 5, 6]
    by_version = {r.json()["version"]: r.json()["pages"] for r in answers}
    rows = await fetch(stack.settings, "SELECT version, pages FROM asset_files")
    assert {r["version"]: r["pages"] for r in rows} == by_version


async def test_a_binary_body_with_nul_bytes_passes_the_guard_on_the_upload_path_only(
    stack: Stack, files_dir: Path,
) -> None:
    await stack.ratings()
    mia = await _asset_of_mia(stack)
    data = blank_pdf(2) + b"%\x00\x00\x00 binary\n"
    async with stack.client_for(mia) as owner:
        r = await _upload(owner, data)
        assert r.status_code == 201 and r.json()["bytes"] == len(data)
        # Everywhere else NUL in a body is still refused.
        r = await owner.post("/v1/assets", content=b'{"id": "a\x00"}',
                             headers={"content-type": "application/json"})
        assert r.status_code == 422 and "NUL" in r.json()["detail"]


async def test_over_files_max_bytes_is_refused_413_and_other_paths_keep_their_limit(
    stack: Stack, files_dir: Path,
) -> None:
    stack.settings = stack.settings.model_copy(update={"files_max_bytes": MIB})
    ratings = await stack.ratings()
    mia = await _asset_of_mia(stack)
    async with stack.client_for(mia) as owner:
        # Above RATINGS_MAX_BODY_BYTES (256 KiB) but within FILES_MAX_BYTES: accepted.
        exactly = blank_pdf(1, pad_to=MIB)
        assert len(exactly) == MIB
        r = await _upload(owner, exactly)
        assert r.status_code == 201 and r.json()["bytes"] == MIB, r.text
        r = await _upload(owner, blank_pdf(1, pad_to=MIB + 1))
        assert r.status_code == 413 and r.json()["detail"] == f"body larger than {MIB} bytes"
        # Other paths keep RATINGS_MAX_BODY_BYTES.
        r = await owner.post("/v1/assets", content=b" " * 300_000,
                             headers={"content-type": "application/json"})
        assert r.status_code == 413 and r.json()["detail"] == "body larger than 262144 bytes"
        token = owner.headers["authorization"]
    # 50 MiB declared, or streamed chunked: refused long before it is all sent.
    fifty = 50 * MIB
    for length in (fifty, None):
        answer = await send_body(ratings.url, "POST", FILES, [b"%" * MIB] * 50, length=length,
                                 headers={**PDF, "authorization": token})
        assert answer.status == 413, answer
        assert json.loads(answer.body) == {"detail": f"body larger than {MIB} bytes"}
        assert answer.sent < fifty, "the server waited for the whole body"
    assert await fetch(stack.settings, "SELECT version FROM asset_files") == [{"version": 1}]


async def test_the_default_limit_is_25_mib(stack: Stack, files_dir: Path) -> None:
    ratings = await stack.ratings()
    mia = await _asset_of_mia(stack)
    limit = 25 * MIB
    answer = await send_body(ratings.url, "POST", FILES, [b"%" * MIB] * 26, length=limit + 1,
                             headers={**PDF, "authorization": f"Bearer {mia}"})
    assert answer.status == 413 and answer.sent < limit + 1
    assert json.loads(answer.body) == {"detail": f"body larger than {limit} bytes"}


@pytest.mark.parametrize(("data", "reason"), [
    (b"Just some text, not a PDF", "does not start with %PDF-"),
    (b"MZ\x90\x00\x03\x00\x00\x00\x04", "does not start with %PDF-"),
    (b"%PDF-1.7\nthen nothing a reader could use", "not a readable PDF"),
    (encrypted_pdf(), "encrypted"),
    (open_action_pdf("/JavaScript", JS="app.alert(document.cookie)"), "JavaScript"),
    (open_action_pdf("/Launch", F="cmd.exe"), "launch action"),
    (attached_file_pdf(), "attached files"),
], ids=["text", "exe", "junk", "encrypted", "javascript", "launch", "attachment"])
async def test_bad_files_are_refused_422_and_nothing_is_stored(
    stack: Stack, files_dir: Path, data: bytes, reason: str,
) -> None:
    await stack.ratings()
    mia = await _asset_of_mia(stack)
    async with stack.client_for(mia) as owner:
        r = await _upload(owner, data)
        assert r.status_code == 422 and reason in r.json()["detail"], r.text
        assert (await owner.get(FILES)).json() == {"files": []}
    assert not files_dir.exists()


async def test_a_file_must_be_sent_as_a_pdf(stack: Stack, files_dir: Path) -> None:
    await stack.ratings()
    mia = await _asset_of_mia(stack)
    async with stack.client_for(mia) as owner:
        for content_type in ("application/octet-stream", "text/html", None):
            headers = {"content-type": content_type} if content_type else {}
            r = await owner.post(FILES, content=blank_pdf(1), headers=headers)
            assert r.status_code == 415, (content_type, r.text)
        r = await owner.post(FILES, files={"file": ("a.pdf", blank_pdf(1), "application/pdf")})
        assert r.status_code == 415
        r = await owner.post(FILES, content=blank_pdf(1),
                             headers={"content-type": "Application/PDF; qs=1"})
        assert r.status_code == 201
        for name in ("x" * 256, "../../etc/passwd", "a\\b.pdf", 'a".pdf', "a\r\nb.pdf", ""):
            r = await _upload(owner, blank_pdf(1), filename=name)
            assert r.status_code == 422, name
        r = await _upload(owner, blank_pdf(1), filename="Préis – 2026 (final).pdf")
        assert r.status_code == 201
        listed = (await owner.get(FILES)).json()["files"]
        assert listed[0]["filename"] == "Préis – 2026 (final).pdf"


async def test_only_the_owner_or_an_admin_uploads(stack: Stack, files_dir: Path) -> None:
    ratings = await stack.ratings()
    mia = await _asset_of_mia(stack)
    _, max_ = await stack.user(MAX, "marketing")
    async with stack.client_for(max_) as other:
        r = await _upload(other, blank_pdf(1))
        assert r.status_code == 403 and "owner or an admin" in r.json()["detail"]
    async with await stack.client("sales") as sales:
        r = await _upload(sales, blank_pdf(1))
        assert r.status_code == 403 and "needs marketing, admin" in r.json()["detail"]
    async with httpx.AsyncClient(base_url=ratings.url) as anonymous:
        assert (await _upload(anonymous, blank_pdf(1))).status_code == 401
    async with await stack.client("admin") as admin:
        assert (await _upload(admin, blank_pdf(2))).json()["version"] == 1
        r = await admin.post("/v1/assets/nope/files", content=blank_pdf(1), headers=PDF)
        assert r.status_code == 404
    async with stack.client_for(mia) as owner:
        assert (await _upload(owner, blank_pdf(1))).json()["version"] == 2
        assert (await owner.delete("/v1/assets/pricing-sheet")).status_code == 204
        assert (await _upload(owner, blank_pdf(1))).status_code == 404
        assert (await owner.get(FILES)).status_code == 404
    rows = await fetch(stack.settings, "SELECT f.version, u.email FROM asset_files f "
                                       "JOIN users u ON u.id = f.uploaded_by ORDER BY version")
    assert [(r["version"], r["email"]) for r in rows] == [(1, "admin-tester@example.com"),
                                                         (2, MIA)]
