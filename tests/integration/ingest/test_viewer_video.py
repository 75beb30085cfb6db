"""The hosted viewer of a video at the edge (/v/{asset} and /v/{asset}/file) on the real
PostgreSQL and broker: the page with the browser's player and t.js, its CSP, and the file
served in byte ranges (206, 416, or whole), for a PDF too; HEAD, ETag and 304 as before;
and the latest version's kind deciding which page is shown."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from harness.stack import Stack
from harness.user_agents import UA_DESKTOP
from harness.viewer_files import STEELBLUE_MS, numbered_pdf, put_file, steelblue_video

ASSET = "launch-film"
FILE = f"/v/{ASSET}/file"
SENT_BY = {"x-forwarded-for": "198.51.100.41", "user-agent": UA_DESKTOP}


async def _start(stack: Stack, tmp_path: Path) -> httpx.AsyncClient:
    stack.settings = stack.settings.model_copy(update={"files_dir": str(tmp_path / "files")})
    await stack.add_asset(ASSET, title="Launch film 2026")
    ingest = await stack.ingest()
    return httpx.AsyncClient(base_url=ingest.url, headers=SENT_BY)


async def _put_video(stack: Stack, version: int = 1,
                     filename: str | None = "Launch film été.mp4") -> bytes:
    video = steelblue_video()
    await put_file(stack.settings, ASSET, video, pages=None, version=version,
                   filename=filename, duration_ms=STEELBLUE_MS)
    return video


async def test_the_page_of_a_video_has_the_player_and_t_js(
    stack: Stack, tmp_path: Path,
) -> None:
    async with await _start(stack, tmp_path) as client:
        await _put_video(stack)
        page = await client.get(f"/v/{ASSET}")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["cache-control"].startswith("no-store")
        assert page.headers["x-content-type-options"] == "nosniff"
        csp = page.headers["content-security-policy"]
        for directive in ("default-src 'none'", "script-src 'self'", "media-src 'self'",
                          "connect-src 'self'", "style-src 'self'", "frame-ancestors 'none'"):
            assert directive in csp, directive
        assert "unsafe" not in csp
        html = page.text
        assert "Launch film 2026" in html
        assert (f'<video class="video" id="video" controls playsinline preload="metadata" '
                f'src="/v/{ASSET}/file?v=1"') in html
        assert f'<script async src="/t.js" data-asset="{ASSET}"></script>' in html
        assert (f'href="/v/{ASSET}/file?v=1&amp;download=1" download\n'
                f'  data-glassboard-download>') in html
        # No pdf.js, no viewer.js, and no inline script or style (the CSP would block them).
        assert "pdfjs" not in html and "viewer.js" not in html
        assert html.count("<script") == 1 and "style=" not in html and "<style" not in html

        script = await client.get("/t.js")
        assert script.status_code == 200
        assert script.headers["content-type"].startswith("text/javascript")
        [css] = [line.split('href="')[1].split('"')[0] for line in html.splitlines()
                 if 'rel="stylesheet"' in line]
        style = await client.get(css)
        assert style.status_code == 200 and ".video{" in style.text


async def test_the_video_is_served_whole_and_in_byte_ranges(
    stack: Stack, tmp_path: Path,
) -> None:
    async with await _start(stack, tmp_path) as client:
        video = await _put_video(stack)
        size = len(video)
        whole = await client.get(FILE)
        assert whole.status_code == 200 and whole.content == video
        assert whole.headers["content-type"] == "video/mp4"
        assert whole.headers["accept-ranges"] == "bytes"
        assert whole.headers["content-length"] == str(size)
        assert whole.headers["x-content-type-options"] == "nosniff"
        assert whole.headers["content-disposition"] == (
            "inline; filename=\"Launch_film_t_.mp4\"; "
            "filename*=UTF-8''Launch%20film%20%C3%A9t%C3%A9.mp4")
        etag = whole.headers["etag"]
        assert etag.startswith('"v1-')

        for wanted, first, last in (
            ("bytes=0-99", 0, 99),            # what a player asks first
            ("bytes=0-1", 0, 1),              # Safari's probe
            ("bytes=1000-", 1000, size - 1),
            ("bytes=-8", size - 8, size - 1),
            ("bytes=-100000", 0, size - 1),   # a suffix longer than the file: all of it
            ("bytes=2000-999999", 2000, size - 1),
            (f"bytes={size - 1}-{size - 1}", size - 1, size - 1),
            ("Bytes = 10-19", 10, 19),
        ):
            part = await client.get(FILE, headers={"range": wanted})
            assert part.status_code == 206, wanted
            assert part.content == video[first:last + 1], wanted
            assert part.headers["content-range"] == f"bytes {first}-{last}/{size}", wanted
            assert part.headers["content-length"] == str(last - first + 1), wanted
            assert part.headers["content-type"] == "video/mp4"
            assert part.headers["accept-ranges"] == "bytes"
            assert part.headers["etag"] == etag

        for wanted in (f"bytes={size}-", f"bytes={size + 10}-{size + 20}", "bytes=-0"):
            refused = await client.get(FILE, headers={"range": wanted})
            assert refused.status_code == 416, wanted
            assert refused.headers["content-range"] == f"bytes */{size}", wanted
            assert refused.content == b""

        # Several ranges, another unit, or one that does not parse: the whole file.
        for wanted in ("bytes=0-9,20-29", "bytes=0-9, -5", "items=0-9", "bytes=9-2", "bytes=x-"):
            answer = await client.get(FILE, headers={"range": wanted})
            assert answer.status_code == 200 and answer.content == video, wanted
            assert "content-range" not in answer.headers

        # If-Range: the part only of the version the client has; else the whole new file.
        same = await client.get(FILE, headers={"range": "bytes=0-9", "if-range": etag})
        assert same.status_code == 206 and same.content == video[:10]
        other = await client.get(FILE, headers={"range": "bytes=0-9", "if-range": '"v0-x"'})
        assert other.status_code == 200 and other.content == video
        # An unchanged file answers 304 even when a range is asked for.
        cached = await client.get(FILE, headers={"if-none-match": etag, "range": "bytes=0-9"})
        assert cached.status_code == 304 and cached.content == b""

        head = await client.head(FILE)
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-length"] == str(size)
        assert head.headers["content-type"] == "video/mp4"
        assert head.headers["accept-ranges"] == "bytes"
        # Range is for GET only: a HEAD with one still describes the whole file.
        head = await client.head(FILE, headers={"range": "bytes=0-9"})
        assert head.status_code == 200 and head.headers["content-length"] == str(size)

        download = await client.get(f"{FILE}?download=1", headers={"range": "bytes=0-3"})
        assert download.status_code == 206 and download.content == video[:4]
        assert download.headers["content-disposition"].startswith("attachment;")


async def test_a_video_without_a_file_name_downloads_as_the_asset_id(
    stack: Stack, tmp_path: Path,
) -> None:
    async with await _start(stack, tmp_path) as client:
        await _put_video(stack, filename=None)
        answer = await client.get(f"{FILE}?download=1")
        assert answer.headers["content-disposition"] == (
            f"attachment; filename=\"{ASSET}.mp4\"; filename*=UTF-8''{ASSET}.mp4")


async def test_a_pdf_is_served_in_byte_ranges_too(stack: Stack, tmp_path: Path) -> None:
    pdf = numbered_pdf(3)
    async with await _start(stack, tmp_path) as client:
        await put_file(stack.settings, ASSET, pdf, pages=3)
        part = await client.get(FILE, headers={"range": "bytes=0-4"})
        assert part.status_code == 206 and part.content == b"%PDF-"
        assert part.headers["content-type"] == "application/pdf"
        assert part.headers["content-range"] == f"bytes 0-4/{len(pdf)}"
        tail = await client.get(FILE, headers={"range": "bytes=-6"})
        assert tail.status_code == 206 and tail.content == b"%%EOF\n"
        refused = await client.get(FILE, headers={"range": f"bytes={len(pdf)}-"})
        assert refused.status_code == 416
        assert refused.headers["content-range"] == f"bytes */{len(pdf)}"
        whole = await client.get(FILE)
        assert whole.status_code == 200 and whole.content == pdf
        assert whole.headers["accept-ranges"] == "bytes"


@pytest.mark.parametrize("video_first", [False, True], ids=["pdf-then-video", "video-then-pdf"])
async def test_the_latest_version_decides_the_page_whichever_kind(
    stack: Stack, tmp_path: Path, video_first: bool,
) -> None:
    pdf = numbered_pdf(4)
    async with await _start(stack, tmp_path) as client:
        if video_first:
            await _put_video(stack, version=1)
            await put_file(stack.settings, ASSET, pdf, pages=4, version=2)
        else:
            await put_file(stack.settings, ASSET, pdf, pages=4, version=1)
            await _put_video(stack, version=2)
        page = (await client.get(f"/v/{ASSET}")).text
        file = await client.get(FILE)
        assert file.headers["etag"].startswith('"v2-')
        if video_first:
            assert 'data-pages="4"' in page and "<video" not in page
            assert f'data-file="/v/{ASSET}/file?v=2"' in page
            assert file.headers["content-type"] == "application/pdf" and file.content == pdf
        else:
            assert f'src="/v/{ASSET}/file?v=2"' in page and "data-pages" not in page
            assert file.headers["content-type"] == "video/mp4"
            assert file.content == steelblue_video()
