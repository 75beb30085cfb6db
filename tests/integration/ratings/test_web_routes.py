"""The ratings app's pages over plain HTTP: sign-in required, the board's shells and their
filter choices, the alert inbox page, the CSP, and /static/ with content types, versioned
URLs and caching."""

from __future__ import annotations

import re

import httpx

from harness.stack import Stack
from services.ratings.web.routes import static_app

PAGES = ("/", "/stale", "/help/scoring")


async def test_pages_need_a_session_and_render_with_filters_and_a_strict_csp(stack: Stack) -> None:
    ratings = await stack.ratings()
    await stack.add_asset("pricing-sheet", owner_email="olga@example.com")
    await stack.add_asset("case-study", type="case_study", owner_email="<b>x@example.com")
    async with httpx.AsyncClient(base_url=ratings.url) as anonymous:
        for path in PAGES:
            r = await anonymous.get(path)
            assert r.status_code == 303, path
            assert r.headers["location"] == "/login?next=" + path.replace("/", "%2F")
        # "/" is a valid place to come back to after signing in.
        r = await anonymous.post("/v1/auth/magic-link", json={"email": "a@example.com", "next": "/"})
        assert r.status_code == 202, r.text
        r = await anonymous.post("/v1/auth/magic-link",
                                 json={"email": "a@example.com", "next": "//evil.example"})
        assert r.status_code == 422

    async with await stack.client("sales") as client:
        for path in PAGES:
            r = await client.get(path)
            assert r.status_code == 200, path
            assert r.headers["content-type"].startswith("text/html")
            assert "script-src 'self'" in r.headers["content-security-policy"]
            assert "{{" not in r.text
            assert 'aria-current="page"' in r.text
        board = (await client.get("/")).text
        assert '<option value="case_study">Case study</option>' in board
        assert '<option value="olga@example.com">olga@example.com</option>' in board
        assert "&lt;b&gt;x@example.com" in board and "<b>x@" not in board  # escaped
        assert 'data-view="board"' in board
        assert 'data-view="stale"' in (await client.get("/stale")).text
        for name in ("board/board.js", "board/board.css", "board/board-format.js",
                     "board/score-stream.js"):
            assert f"/static/{name}?v={static_app[name].version}" in board
        asset_page = (await client.get("/assets/pricing-sheet")).text
        chart = static_app["vendor/chart.umd.min.js"]
        assert f'src="/static/vendor/chart.umd.min.js?v={chart.version}"' in asset_page
        assert 'id="analytics"' in asset_page and 'id="score-state">null</script>' in asset_page


async def test_static_files_have_types_and_are_cached_for_good_only_when_versioned(
    stack: Stack,
) -> None:
    ratings = await stack.ratings()
    async with httpx.AsyncClient(base_url=ratings.url) as anonymous:
        chart = static_app["vendor/chart.umd.min.js"]
        r = await anonymous.get("/static/vendor/chart.umd.min.js", params={"v": chart.version})
        assert r.status_code == 200
        assert r.headers["content-type"] == "text/javascript; charset=utf-8"
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert r.content.startswith(b"/*!\n * Chart.js v4.6.1")
        assert b"sourceMappingURL" not in r.content
        unversioned = await anonymous.get("/static/vendor/chart.umd.min.js")
        assert unversioned.headers["cache-control"] == "no-cache"
        again = await anonymous.get("/static/vendor/chart.umd.min.js",
                                    headers={"if-none-match": r.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        css = await anonymous.get("/static/board/board.css")
        assert css.headers["content-type"] == "text/css; charset=utf-8"
        license_ = await anonymous.get("/static/vendor/chart.LICENSE.md")
        assert license_.headers["content-type"].startswith("text/markdown")
        assert re.search(r"MIT License", license_.text)
        assert (await anonymous.get("/static/nope.js")).status_code == 404
        assert (await anonymous.get("/static/..%2Froutes.py")).status_code == 404


async def test_the_inbox_page_needs_sign_in_and_serves_its_files(stack: Stack) -> None:
    await stack.ratings()
    async with await stack.client("admin") as admin:
        page = await admin.get("/alerts")
        assert page.status_code == 200
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert 'id="tab-everyone"' in page.text and 'data-email="admin-tester@example.com"' in page.text
        script = page.text.split('src="/static/alerts/alerts.js?v=')[1].split('"')[0]
        js = await admin.get(f"/static/alerts/alerts.js?v={script}")
        assert js.status_code == 200 and "immutable" in js.headers["cache-control"]
        assert js.headers["content-type"].startswith("text/javascript")
        assert (await admin.get("/static/alerts/other.js")).status_code == 404
        admin.headers.pop("authorization")
        signed_out = await admin.get("/alerts")
        assert signed_out.status_code == 303
        assert signed_out.headers["location"] == "/login?next=%2Falerts"
