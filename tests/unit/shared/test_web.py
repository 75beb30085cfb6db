"""shared/web (pure, no stack): content-hashed static URLs with their caching and ETags,
and the Jinja2 setup every service's pages use (loader order, autoescape, strictness)."""

from __future__ import annotations

import httpx
import jinja2
import pytest
from fastapi import FastAPI, Request, Response

from services.ratings.web.routes import static_app
from shared.web import FOREVER, HashedStaticFiles, StaticFile, make_templates

FILES = HashedStaticFiles({
    name: StaticFile.of(name, body)
    for name, body in (("board/board.js", b"console.log(1);\n"), ("app/icon.svg", b"<svg/>"),
                       ("a.webmanifest", b"{}"))
})


def _client() -> httpx.AsyncClient:
    app = FastAPI()
    fixed = HashedStaticFiles({"t.js": StaticFile.of("t.js", b"1;")},
                              cache_control="public, max-age=3600")

    @app.get("/t.js")
    async def tracker(request: Request) -> Response:
        return fixed.response(request, "t.js")

    app.mount("/static", FILES)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_a_hashed_url_is_immutable_and_any_other_revalidates() -> None:
    url = FILES.url("board/board.js")
    version = FILES["board/board.js"].version
    assert url == f"/static/board/board.js?v={version}" and len(version) == 12
    async with _client() as client:
        hashed = await client.get(url)
        assert hashed.status_code == 200 and hashed.content == b"console.log(1);\n"
        assert hashed.headers["cache-control"] == FOREVER
        assert hashed.headers["content-type"] == "text/javascript; charset=utf-8"
        assert hashed.headers["x-content-type-options"] == "nosniff"
        assert hashed.headers["etag"] == f'"{version}"'
        for query in ("", "?v=0123456789ab"):  # no hash, or an old page's old one
            r = await client.get(f"/static/board/board.js{query}")
            assert r.headers["cache-control"] == "no-cache" and r.headers["etag"] == f'"{version}"'
        for tag in (f'"{version}"', f'W/"{version}"', f'"other", "{version}"'):
            again = await client.get("/static/board/board.js", headers={"if-none-match": tag})
            assert again.status_code == 304 and again.content == b"", tag
        assert (await client.get("/static/board/board.js",
                                 headers={"if-none-match": '"other"'})).status_code == 200
        assert (await client.head(url)).headers["etag"] == f'"{version}"'
        svg = await client.get("/static/app/icon.svg")
        assert svg.headers["content-type"] == "image/svg+xml"
        manifest = await client.get("/static/a.webmanifest")
        assert manifest.headers["content-type"] == "application/manifest+json"
        assert (await client.get("/static/nope.js")).status_code == 404
        assert (await client.get("/static/board/..%2Fboard%2Fboard.js")).status_code == 404
        assert (await client.post(url)).status_code == 405
        fixed = await client.get("/t.js")
        assert fixed.headers["cache-control"] == "public, max-age=3600" and fixed.content == b"1;"


def test_a_package_tree_is_read_with_its_folders() -> None:
    assert {"board/board.js", "app/app.css", "alerts/alerts.js",
            "vendor/chart.umd.min.js", "vendor/chart.LICENSE.md"} <= set(static_app.files)
    assert "t.js" in HashedStaticFiles.from_package("services.ingest")
    with pytest.raises(KeyError):
        static_app.url("board/missing.js")  # a mistyped name fails at render, not as a 404


def test_templates_escape_refuse_undefined_names_and_fall_back_to_the_shared_ones() -> None:
    templates = make_templates("services.ratings.web", FILES)
    env = templates.env
    assert env.from_string("{{ x }}").render(x='<b a="1">') == "&lt;b a=&#34;1&#34;&gt;"
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing }}").render()
    assert str(env.get_template("base.html").filename).endswith("shared/web/templates/base.html")
    assert str(env.get_template("board.html").filename).endswith("ratings/web/templates/board.html")
    page = env.from_string(
        '{% extends "base.html" %}{% set stylesheets = ["app/icon.svg"] %}'
        '{% from "_header.html" import topbar %}{% block title %}T{% endblock %}'
        '{% block body %}{{ topbar([("a", "/a", "A"), ("b", "/b", "B")], "b", "<e>") }}'
        "{% endblock %}").render()
    assert page.startswith("<!doctype html>") and "<title>T · Glassboard</title>" in page
    assert f'<link rel="stylesheet" href="{FILES.url("app/icon.svg")}">' in page
    assert '<a href="/a">A</a>' in page and '<a href="/b" aria-current="page">B</a>' in page
    assert 'title="Signed in as &lt;e&gt;">&lt;e&gt;</span>' in page
