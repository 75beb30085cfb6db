"""Videos as asset files (issue 14): an MP4 uploaded through the ratings app on the real
broker and PostgreSQL, into the local file store, with its length read from its mvhd box.
Refused: over FILES_MAX_VIDEO_BYTES (413; a PDF keeps FILES_MAX_BYTES), not an MP4 whose
boxes hold together and whose length is known (422), another video type (415). A new
version may be of the other kind; the latest is what the viewer shows."""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

import httpx
import pytest

from harness.db import fetch
from harness.pdfs import blank_pdf
from harness.raw_http import send_body
from harness.stack import Stack
from harness.viewer_files import STEELBLUE_MS, steelblue_video

MIA = "mia@example.com"
ASSET = {"id": "launch-film", "title": "Launch film", "type": "case_study",
         "url": "https://cdn.example.com/launch.mp4", "owner_email": MIA}
MP4 = {"content-type": "video/mp4"}
PDF = {"content-type": "application/pdf"}
MIB = 1024 * 1024
FILES = "/v1/assets/launch-film/files"


def _box(kind: bytes, body: bytes = b"", size: int | None = None) -> bytes:
    """An ISO-BMFF box: its 32-bit size (the real one unless ``size`` says otherwise)."""
    return struct.pack(">I4s", 8 + len(body) if size is None else size, kind) + body


def _large_box(kind: bytes, body: bytes, size: int | None = None) -> bytes:
    """A box with size 1 and a 64-bit largesize after its type."""
    return struct.pack(">I4sQ", 1, kind, 16 + len(body) if size is None else size) + body


def _mvhd(timescale: int, duration: int, version: int = 0) -> bytes:
    times = (struct.pack(">QQIQ", 0, 0, timescale, duration) if version == 1 else
             struct.pack(">IIII", 0, 0, timescale, duration))
    return _box(b"mvhd", bytes([version, 0, 0, 0]) + times + b"\0" * 80)


FTYP = _box(b"ftyp", b"isom\0\0\x02\0isomiso2avc1mp41")
MDAT = _box(b"mdat", b"\0" * 64)


def _mp4(*boxes: bytes) -> bytes:
    return b"".join(boxes)


def _padded(data: bytes, size: int) -> bytes:
    """``data`` and a ``free`` box after it, ``size`` bytes in all (still a valid MP4)."""
    return data + _box(b"free", b"\0" * (size - len(data) - 8))


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


async def _upload(client: httpx.AsyncClient, data: bytes, headers: dict[str, str] = MP4,
                  **params: str) -> httpx.Response:
    return await client.post(FILES, content=data, headers=headers, params=params)


async def test_an_mp4_is_stored_with_its_length(stack: Stack, files_dir: Path) -> None:
    await stack.ratings()
    mia = await _asset_of_mia(stack)
    video = steelblue_video()
    sha = hashlib.sha256(video).hexdigest()
    async with stack.client_for(mia) as owner:
        r = await _upload(owner, video, filename="Launch film.mp4")
        assert r.status_code == 201, r.text
        answer = r.json()
        assert abs(answer.pop("duration_ms") - 20_000) <= 50
        assert answer == {"version": 1, "content_type": "video/mp4", "pages": None,
                          "bytes": len(video), "sha256": sha}
        [listed] = (await owner.get(FILES)).json()["files"]
        assert (listed["content_type"], listed["pages"], listed["duration_ms"],
                listed["filename"]) == ("video/mp4", None, STEELBLUE_MS, "Launch film.mp4")
        # Parameters of the media type are no matter, nor its case.
        r = await _upload(owner, video, {"content-type": 'Video/MP4; codecs="avc1.42E01E"'})
        assert r.status_code == 201 and r.json()["version"] == 2
    [row, _] = await fetch(stack.settings, "SELECT storage_key, content_type, pages, "
                                           "duration_ms, bytes FROM asset_files ORDER BY version")
    assert row == {"storage_key": f"assets/launch-film/{sha}.mp4", "content_type": "video/mp4",
                   "pages": None, "duration_ms": STEELBLUE_MS, "bytes": len(video)}
    assert (files_dir / row["storage_key"]).read_bytes() == video


@pytest.mark.parametrize(("boxes", "duration_ms"), [
    ((FTYP, _box(b"moov", _mvhd(600, 600 * 90, version=1)), MDAT), 90_000),
    # A 64-bit largesize, and a last box of size 0 that runs to the end of the file.
    ((FTYP, _box(b"moov", _mvhd(90_000, 45_000)), _large_box(b"mdat", b"\0" * 32),
      _box(b"free", b"\0" * 16, size=0)), 500),
    # The moov at the end (no "faststart"), after a box of another kind.
    ((FTYP, _box(b"free"), MDAT, _box(b"moov", _box(b"udta") + _mvhd(1000, 86_400_000))),
     86_400_000),
], ids=["mvhd-version-1", "largesize-and-size-0", "moov-last-24h"])
async def test_mp4s_made_by_hand_are_read_to_their_length(
    stack: Stack, files_dir: Path, boxes: tuple[bytes, ...], duration_ms: int,
) -> None:
    await stack.ratings()
    mia = await _asset_of_mia(stack)
    async with stack.client_for(mia) as owner:
        r = await _upload(owner, _mp4(*boxes))
        assert r.status_code == 201, r.text
        assert r.json()["duration_ms"] == duration_ms


_VIDEO = steelblue_video()


@pytest.mark.parametrize(("data", "reason"), [
    (b"Just some text, not a video", "does not start with an ftyp box"),
    (blank_pdf(1), "does not start with an ftyp box"),
    (b"\0\0\0\x18ft", "does not start with an ftyp box"),
    # The fixture cut short: inside moov, inside mdat, inside a box header.
    (_VIDEO[:100], "'moov' box in the file is truncated"),
    (_VIDEO[:-1], "'mdat' box in the file is truncated"),
    (_VIDEO + b"\0\0\0", "ends inside a box header"),
    (_mp4(FTYP, _box(b"moov", _mvhd(1000, 5000)), _large_box(b"mdat", b"", size=2**63)),
     "'mdat' box in the file is truncated"),
    (_mp4(FTYP, _box(b"moov", _mvhd(1000, 5000))) + b"\0\0\0\x01mdat\0\0",
     "ends inside a box header"),
    # Sizes that would never move the walk on, or move it backwards.
    (_mp4(FTYP, _box(b"moov", _box(b"mvhd", size=0) + b"\0" * 96)), "has size 0"),
    (_mp4(FTYP, _box(b"free", size=3), MDAT), "says it is 3 bytes, less than its own header"),
    (_mp4(FTYP, _large_box(b"free", b"", size=7)), "says it is 7 bytes"),
    (_mp4(_box(b"ftyp", b"isom\0\0\0\0", size=0), _box(b"moov", _mvhd(1000, 5000))),
     "no moov box"),
    # Boxes that hold together, but not a movie of known length.
    (_mp4(FTYP, MDAT), "no moov box"),
    (_mp4(FTYP, _box(b"moov", _box(b"trak"))), "holds no mvhd box"),
    (_mp4(FTYP, _box(b"moov", _mvhd(1000, 5000)), _box(b"moov", _mvhd(1000, 5000))),
     "more than one moov box"),
    (_mp4(FTYP, _box(b"moov", _box(b"mvhd", b"\0\0\0\0\0\0"))), "mvhd box is too short"),
    (_mp4(FTYP, _box(b"moov", _mvhd(1000, 5000, version=2))), "unknown version"),
    (_mp4(FTYP, _box(b"moov", _mvhd(0, 5000))), "timescale is 0"),
    (_mp4(FTYP, _box(b"moov", _mvhd(1000, 0))), "length is not known"),
    (_mp4(FTYP, _box(b"moov", _mvhd(1000, 86_400_001))), "longer than 24 hours"),
    (_mp4(FTYP, _box(b"moov", _mvhd(1000, 2**64 - 1, version=1))), "longer than 24 hours"),
], ids=["text", "pdf", "short", "cut-in-moov", "cut-in-mdat", "trailing-bytes",
        "huge-largesize", "cut-largesize", "zero-size-in-moov", "size-below-header",
        "largesize-below-header", "zero-size-ftyp", "no-moov", "no-mvhd", "two-moovs",
        "short-mvhd", "mvhd-version-2", "timescale-0", "duration-0", "over-24h", "unknown"])
async def test_files_that_are_not_mp4s_of_known_length_are_refused_422(
    stack: Stack, files_dir: Path, data: bytes, reason: str,
) -> None:
    await stack.ratings()
    mia = await _asset_of_mia(stack)
    async with stack.client_for(mia) as owner:
        r = await _upload(owner, data)
        assert r.status_code == 422 and reason in r.json()["detail"], r.text
        assert (await owner.get(FILES)).json() == {"files": []}
    assert not files_dir.exists()


async def test_a_video_in_another_format_is_refused_415(stack: Stack, files_dir: Path) -> None:
    await stack.ratings()
    mia = await _asset_of_mia(stack)
    async with stack.client_for(mia) as owner:
        for content_type in ("video/quicktime", "video/webm", "application/octet-stream",
                             "video/mp4x", "audio/mp4", None):
            headers = {"content-type": content_type} if content_type else {}
            r = await owner.post(FILES, content=steelblue_video(), headers=headers)
            assert r.status_code == 415, (content_type, r.text)
            assert "video/mp4" in r.json()["detail"]
        # Sent as a PDF, an MP4 is a PDF that is not one.
        r = await _upload(owner, steelblue_video(), PDF)
        assert r.status_code == 422 and "%PDF-" in r.json()["detail"]
    assert not files_dir.exists()


@pytest.mark.parametrize(("pdf_limit", "video_limit"), [(MIB, 2 * MIB), (2 * MIB, MIB)],
                         ids=["videos-may-be-larger", "videos-must-be-smaller"])
async def test_each_kind_has_its_own_limit(
    stack: Stack, files_dir: Path, pdf_limit: int, video_limit: int,
) -> None:
    stack.settings = stack.settings.model_copy(update={
        "files_max_bytes": pdf_limit, "files_max_video_bytes": video_limit})
    ratings = await stack.ratings()
    mia = await _asset_of_mia(stack)
    between = MIB + MIB // 2  # over the smaller limit, within the larger
    async with stack.client_for(mia) as owner:
        for kind, limit, make, headers in (
            ("pdf", pdf_limit, lambda size: blank_pdf(1, pad_to=size), PDF),
            ("mp4", video_limit, lambda size: _padded(steelblue_video(), size), MP4),
        ):
            exactly = make(limit)
            assert len(exactly) == limit
            r = await _upload(owner, exactly, headers)
            assert r.status_code == 201, (kind, r.text)
            # Over the smaller limit, within the larger: each kind is held to its own.
            r = await _upload(owner, make(between), headers)
            if limit > between:
                assert r.status_code == 201, (kind, r.text)
            else:
                assert r.status_code == 413, kind
                assert r.json()["detail"] == f"body larger than {limit} bytes"
            r = await _upload(owner, make(limit + 1), headers)
            assert r.status_code == 413, kind
            assert r.json()["detail"] == f"body larger than {limit} bytes"
        token = owner.headers["authorization"]
    # Over the limit, declared or streamed chunked: the guard refuses it at its media
    # type's limit, long before it is all sent.
    for length, headers, limit in ((20 * MIB, MP4, video_limit), (None, MP4, video_limit),
                                   (20 * MIB, PDF, pdf_limit), (None, PDF, pdf_limit)):
        answer = await send_body(ratings.url, "POST", FILES, [b"\0" * MIB] * 20, length=length,
                                 headers={**headers, "authorization": token})
        assert answer.status == 413, answer
        assert json.loads(answer.body) == {"detail": f"body larger than {limit} bytes"}
        assert answer.sent < 20 * MIB, "the server waited for the whole body"
    rows = await fetch(stack.settings, "SELECT content_type FROM asset_files ORDER BY version")
    assert [r["content_type"] for r in rows] == ["application/pdf"] * (
        2 if pdf_limit > between else 1) + ["video/mp4"] * (2 if video_limit > between else 1)


async def test_the_default_video_limit_is_100_mib(stack: Stack, files_dir: Path) -> None:
    ratings = await stack.ratings()
    mia = await _asset_of_mia(stack)
    limit = 100 * MIB
    answer = await send_body(ratings.url, "POST", FILES, [b"\0" * MIB] * 101, length=limit + 1,
                             headers={**MP4, "authorization": f"Bearer {mia}"})
    assert answer.status == 413 and answer.sent < limit + 1
    assert json.loads(answer.body) == {"detail": f"body larger than {limit} bytes"}
    # A PDF keeps FILES_MAX_BYTES (25 MiB), cut by the guard before it is all sent; and a
    # body of any other type keeps the small default.
    answer = await send_body(ratings.url, "POST", FILES, [b"%" * MIB] * 26,
                             length=26 * MIB, headers={**PDF, "authorization": f"Bearer {mia}"})
    assert answer.status == 413 and answer.sent < 26 * MIB
    assert json.loads(answer.body) == {"detail": f"body larger than {25 * MIB} bytes"}
    answer = await send_body(ratings.url, "POST", FILES, [b"x" * MIB] * 20, length=20 * MIB,
                             headers={"content-type": "video/webm",
                                      "authorization": f"Bearer {mia}"})
    assert answer.status == 413 and answer.sent < 20 * MIB


async def test_a_new_version_may_switch_kind_and_the_listing_says_which(
    stack: Stack, files_dir: Path,
) -> None:
    await stack.ratings()
    mia = await _asset_of_mia(stack)
    async with stack.client_for(mia) as owner:
        assert (await _upload(owner, blank_pdf(4), PDF)).json()["pages"] == 4
        r = await _upload(owner, steelblue_video())
        assert r.status_code == 201
        assert (r.json()["version"], r.json()["pages"]) == (2, None)
        r = await _upload(owner, blank_pdf(2), PDF)
        assert r.json() == {"version": 3, "content_type": "application/pdf", "pages": 2,
                            "duration_ms": None, "bytes": r.json()["bytes"],
                            "sha256": r.json()["sha256"]}
        r = await _upload(owner, _mp4(FTYP, _box(b"moov", _mvhd(1000, 7_250)), MDAT))
        assert r.status_code == 201
        listed = (await owner.get(FILES)).json()["files"]
    assert [(f["version"], f["content_type"], f["pages"], f["duration_ms"]) for f in listed] == [
        (4, "video/mp4", None, 7_250), (3, "application/pdf", 2, None),
        (2, "video/mp4", None, STEELBLUE_MS), (1, "application/pdf", 4, None)]
    keys = [r["storage_key"] for r in await fetch(
        stack.settings, "SELECT storage_key FROM asset_files ORDER BY version")]
    assert [Path(k).suffix for k in keys] == [".pdf", ".mp4", ".pdf", ".mp4"]
