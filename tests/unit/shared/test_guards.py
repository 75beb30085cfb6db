"""shared/web/guards (pure, no stack): how origins compare, which requests the CSRF check
judges, and which text counts as NUL, on a two-route app in memory. The running ratings
app is tested in tests/integration/ratings/test_request_guards.py."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from shared.web.guards import RequestGuards, origin_of


def _client(**options: Any) -> httpx.AsyncClient:
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, object]:
        return {"body": (await request.body()).decode()}

    @app.get("/echo")
    async def read() -> dict[str, object]:
        return {}

    app.add_middleware(RequestGuards, **{"max_body_bytes": 100, **options})
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://app.test")


@pytest.mark.parametrize(("url", "origin"), [
    ("HTTPS://Board.Example.com:443/app/?x=1", "https://board.example.com"),
    ("http://127.0.0.1:8001", "http://127.0.0.1:8001"),
    ("http://[::1]:80/", "http://[::1]"),
    ("null", None), ("", None), ("/relative", None), ("ftp://x.example", None),
    ("http://x.example:99999", None), (None, None),
])
def test_origins_compare_by_scheme_host_and_port_only(url: str | None,
                                                      origin: str | None) -> None:
    assert origin_of(url) == origin


async def test_only_state_changes_without_a_token_are_judged_by_their_origin() -> None:
    async with _client(trusted_origins=["https://board.example.com/any/path"]) as client:
        def post(**headers: str) -> Awaitable[httpx.Response]:
            return client.post("/echo", content=b"{}", headers=headers)

        assert (await post(origin="https://board.example.com")).status_code == 200
        assert (await post(origin="http://app.test")).status_code == 200  # its own Host
        assert (await post(origin="https://board.example.com.evil.example")).status_code == 403
        assert (await post(origin="http://app.test:8000")).status_code == 403
        assert (await post(referer="http://app.test/page")).status_code == 200
        assert (await post(origin="null", referer="http://app.test/page")).status_code == 403
        assert (await post(origin="https://evil.example",
                           authorization="Bearer gbt_x")).status_code == 200
        assert (await post(origin="https://evil.example",
                           authorization="Basic eDp5")).status_code == 403
        assert (await post()).status_code == 200  # no cookie: no ambient credential
        assert (await post(cookie="gb_session=x")).status_code == 403
        r = await client.get("/echo", headers={"origin": "https://evil.example"})
        assert r.status_code == 200
    async with _client(check_origin=False) as client:
        r = await client.post("/echo", headers={"origin": "https://evil.example"})
        assert r.status_code == 200


@pytest.mark.parametrize(("body", "content_type", "status"), [
    (b'{"a": "x\\u0000"}', "application/json", 422),
    (b'{"x\\u0000": 1}', "application/json", 422),
    (b'["\\ud800"]', "application/json", 422),
    (b'["\\uDBFF"]', "application/json", 422),
    (b'["\\ud83d\\ude00"]', "application/json", 200),  # a pair: one real character
    (b'["\\\\u0000"]', "application/json", 200),  # a backslash, then "u0000"
    (b'{"a": "\\u0000"', "application/json", 200),  # not JSON: the route's to refuse
    (b"\x00", "text/plain", 422),
    (b"a=%00", "application/x-www-form-urlencoded", 422),
    (b"a=%2500+b", "application/x-www-form-urlencoded", 200),
])
async def test_nul_and_lone_surrogates_in_a_body_are_refused(body: bytes, content_type: str,
                                                             status: int) -> None:
    async with _client() as client:
        r = await client.post("/echo", content=body, headers={"content-type": content_type})
        assert r.status_code == status, r.text
        if status == 200:
            assert r.json()["body"] == body.decode()


async def test_bodies_over_the_limit_are_refused_and_smaller_ones_reach_the_route() -> None:
    async with _client() as client:
        assert (await client.post("/echo", content=b"x" * 101)).status_code == 413
        assert (await client.post("/echo", content=b"x" * 100)).json() == {"body": "x" * 100}
        assert (await client.post("/echo")).json() == {"body": ""}
        assert (await client.get("/echo", params={"q": "a\x00"})).status_code == 422
        assert (await client.get("/echo%00")).status_code == 422
