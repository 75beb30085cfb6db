"""The hosted viewer at the edge (/v/{asset} and /v/{asset}/file) on the real PostgreSQL and
broker: the page and the file an upload left (its bytes in the file store, its row in
asset_files, put here as the ratings service would), their headers, the 404s, and a share
link to an asset with a file going to the viewer with gb_visit."""

from __future__ import annotations

import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from harness.db import fetch
from harness.stack import Stack, eventually
from harness.user_agents import UA_DESKTOP
from harness.viewer_files import numbered_pdf, put_file
from shared.share_links import new_link_id

ASSET = "pricing-sheet"
SENT_BY = {"x-forwarded-for": "198.51.100.40", "user-agent": UA_DESKTOP}


async def _start(stack: Stack, tmp_path: Path) -> httpx.AsyncClient:
    stack.settings = stack.settings.model_copy(update={"files_dir": str(tmp_path / "files")})
    await stack.add_asset(ASSET, title="Pricing sheet 2026")
    await stack.add_asset("no-file")
    ingest = await stack.ingest()
    return httpx.AsyncClient(base_url=ingest.url, headers=SENT_BY)


async def test_the_page_and_its_file_are_served_with_their_headers(
    stack: Stack, tmp_path: Path,
) -> None:
    pdf = numbered_pdf(5)
    async with await _start(stack, tmp_path) as client:
        await put_file(stack.settings, ASSET, pdf, pages=5, filename="Prix été.pdf")
        page = await client.get(f"/v/{ASSET}")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["cache-control"].startswith("no-store")
        assert page.headers["x-content-type-options"] == "nosniff"
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "default-src 'none'" in csp
        assert "unsafe" not in csp and "frame-ancestors 'none'" in csp
        assert "Pricing sheet 2026" in page.text
        assert f'data-file="/v/{ASSET}/file?v=1"' in page.text
        assert 'data-pages="5"' in page.text and 'data-visit=""' in page.text

        # The page's own script, pdf.js and its worker are served as JavaScript.
        for name in ("viewer/viewer.js", "vendor/pdfjs/pdf.min.js",
                     "vendor/pdfjs/pdf.worker.min.js"):
            script = await client.get(f"/static/{name}")
            assert script.status_code == 200, name
            assert script.headers["content-type"].startswith("text/javascript")

        file = await client.get(f"/v/{ASSET}/file")
        assert file.status_code == 200
        assert file.content == pdf
        assert file.headers["content-type"] == "application/pdf"
        assert file.headers["x-content-type-options"] == "nosniff"
        assert file.headers["content-disposition"] == (
            "inline; filename=\"Prix_t_.pdf\"; filename*=UTF-8''Prix%20%C3%A9t%C3%A9.pdf")
        etag = file.headers["etag"]
        assert etag.startswith('"v1-')
        assert (await client.get(f"/v/{ASSET}/file",
                                 headers={"if-none-match": etag})).status_code == 304
        download = await client.get(f"/v/{ASSET}/file?download=1")
        assert download.headers["content-disposition"].startswith("attachment;")
        head = await client.head(f"/v/{ASSET}/file")
        assert head.status_code == 200 and head.headers["content-length"] == str(len(pdf))

        # A new version: the same addresses serve it, under a new ETag.
        newer = numbered_pdf(6)
        await put_file(stack.settings, ASSET, newer, pages=6, version=2)
        file = await client.get(f"/v/{ASSET}/file", headers={"if-none-match": etag})
        assert file.status_code == 200 and file.content == newer
        assert file.headers["etag"].startswith('"v2-')
        assert 'data-pages="6"' in (await client.get(f"/v/{ASSET}")).text


async def test_unknown_assets_assets_without_a_file_and_deleted_ones_are_404(
    stack: Stack, tmp_path: Path,
) -> None:
    async with await _start(stack, tmp_path) as client:
        await put_file(stack.settings, ASSET, numbered_pdf(1), pages=1)
        await stack.add_asset("gone")
        await put_file(stack.settings, "gone", numbered_pdf(1), pages=1)
        await fetch(stack.settings, "UPDATE assets SET deleted_at = now() WHERE id = 'gone'")
        for asset in ("no-such-asset", "no-file", "gone", "Bad%00Id", "x" * 81):
            page = await client.get(f"/v/{asset}")
            assert page.status_code == 404, asset
            assert "This document is not available" in page.text
            assert page.headers["content-security-policy"].startswith("default-src 'none'")
            assert (await client.get(f"/v/{asset}/file")).status_code == 404, asset
        assert (await client.get(f"/v/{ASSET}/file")).status_code == 200


async def test_a_gb_visit_is_handed_to_the_page_only_when_it_is_an_event_id(
    stack: Stack, tmp_path: Path,
) -> None:
    visit = str(uuid.uuid4())
    async with await _start(stack, tmp_path) as client:
        await put_file(stack.settings, ASSET, numbered_pdf(2), pages=2)
        page = await client.get(f"/v/{ASSET}?gb_visit={visit.upper()}")
        assert f'data-visit="{visit}"' in page.text
        page = await client.get(f"/v/{ASSET}", params={"gb_visit": '"><script>'})
        assert 'data-visit=""' in page.text and "<script>" not in page.text


async def test_a_share_link_to_an_asset_with_a_file_opens_the_viewer(
    stack: Stack, tmp_path: Path,
) -> None:
    client = await _start(stack, tmp_path)
    await put_file(stack.settings, ASSET, numbered_pdf(2), pages=2)
    creator, _ = await stack.user("rep@example.com", "sales", "Riley Rep")
    links = {}
    for asset in (ASSET, "no-file"):
        links[asset] = new_link_id()
        await fetch(stack.settings,
                    "INSERT INTO share_links (id, asset_id, creator_id, recipient_email, "
                    "created_at) VALUES ($1, $2, $3, 'pat@prospect.example', "
                    "now() - interval '1 minute')", links[asset], asset, creator)
    async with client:
        # Which assets have a file is refreshed with the catalog (no database round trip
        # on an open): a HEAD, which never counts, shows when ingest knows.
        await eventually(lambda: client.head(f"/s/{links[ASSET]}"),
                         lambda r: urlsplit(r.headers["location"]).path == f"/v/{ASSET}")
        opened = await client.get(f"/s/{links[ASSET]}")
        assert opened.status_code == 302
        location = urlsplit(opened.headers["location"])
        assert (location.netloc, location.path) == ("", f"/v/{ASSET}")
        [visit] = parse_qs(location.query)["gb_visit"]
        assert uuid.UUID(visit)
        page = await client.get(opened.headers["location"])
        assert page.status_code == 200 and f'data-visit="{visit}"' in page.text

        elsewhere = await client.get(f"/s/{links['no-file']}")
        assert urlsplit(elsewhere.headers["location"]).netloc == "cdn.example.com"
