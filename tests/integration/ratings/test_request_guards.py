"""What the ratings app refuses before any route runs (shared/web/guards.py): bodies over
RATINGS_MAX_BODY_BYTES (413, declared or streamed), state changes a browser was made to
send from another site (403), NUL in any text (422); and ids past PostgreSQL's bigint."""

from __future__ import annotations

import json

import httpx

from harness.raw_http import send_body
from harness.sign_in import browser, signed_in
from harness.stack import Stack

MIB = 1024 * 1024
FIFTY_MB = 50 * MIB
TOO_BIG_ID = "10000000000000000001"  # > 2**63 - 1, PostgreSQL's largest bigint


def _mebibytes(total: int) -> list[bytes]:
    return [b" " * MIB] * (total // MIB)


async def test_a_50_mb_body_is_refused_413_before_authentication_or_parsing(
    stack: Stack,
) -> None:
    ratings = await stack.ratings()
    # Open to all, and signed-in only: neither reads the body before refusing it.
    for path in ("/v1/auth/magic-link", "/v1/assets"):
        answer = await send_body(ratings.url, "POST", path, _mebibytes(FIFTY_MB),
                                 length=FIFTY_MB)
        assert answer.status == 413, (path, answer)
        assert json.loads(answer.body) == {"detail": "body larger than 262144 bytes"}
        assert answer.sent < FIFTY_MB, "the server waited for the whole body"


async def test_a_chunked_body_is_refused_413_as_soon_as_it_grows_past_the_limit(
    stack: Stack,
) -> None:
    ratings = await stack.ratings()
    async with await stack.client("admin") as admin:
        token = admin.headers["authorization"]
    for path, headers in (("/v1/auth/magic-link", {}),
                          ("/v1/assets", {"authorization": token})):
        answer = await send_body(ratings.url, "POST", path, [b" " * 16_384] * 3200,
                                 length=None, headers=headers)
        assert answer.status == 413, (path, answer)
        assert answer.sent < FIFTY_MB
    # A chunked body under the limit goes through.
    small = json.dumps({"email": "nobody@example.com"}).encode()
    answer = await send_body(ratings.url, "POST", "/v1/auth/magic-link", [small[:9], small[9:]],
                             length=None)
    assert answer.status == 202, answer


async def test_the_body_limit_is_a_setting(stack: Stack) -> None:
    stack.settings = stack.settings.model_copy(update={"ratings_max_body_bytes": 2048})
    ratings = await stack.ratings()
    async with httpx.AsyncClient(base_url=ratings.url,
                                 headers={"content-type": "application/json"}) as client:
        def padded(size: int) -> bytes:
            body = b'{"email": "nobody@example.com"}'
            return body[:-1] + b" " * (size - len(body)) + b"}"

        assert (await client.post("/v1/auth/magic-link", content=padded(2048))).status_code == 202
        r = await client.post("/v1/auth/magic-link", content=padded(2049))
        assert r.status_code == 413 and r.json()["detail"] == "body larger than 2048 bytes"


#: Other sites, and ingest: same host, other port, so the same *site* (SameSite=Lax lets
#: its requests carry the app's cookie), but another *origin*.
def _foreign_origins(stack: Stack) -> list[str]:
    return ["https://evil.example", f"http://127.0.0.1:{stack.settings.ingest_port}", "null"]


async def test_cookie_authenticated_changes_from_another_origin_are_refused_403(
    stack: Stack,
) -> None:
    ratings = await stack.ratings()
    await stack.user("rep@example.com", "sales")
    async with signed_in(ratings, "rep@example.com") as rep:
        changes = [("POST", "/v1/auth/logout", None),  # body-less
                   ("POST", "/v1/alerts/1/read", None),  # body-less
                   ("POST", "/v1/alerts/read-all", None),
                   ("PUT", "/v1/me/alert-preferences", {"email": False}),
                   ("DELETE", "/v1/me/alert-rules/rating_below", None),
                   ("POST", "/v1/tokens", {"name": "stolen"})]
        for origin in _foreign_origins(stack):
            for method, path, body in changes:
                r = await rep.request(method, path, json=body, headers={"origin": origin})
                assert r.status_code == 403, (origin, method, path, r.text)
                assert "another site" in r.json()["detail"]
        # Without Origin, a Referer from another site is refused the same way; with
        # neither, a request carrying cookies is refused (browsers always send one).
        r = await rep.post("/v1/auth/logout", headers={"origin": "",
                                                        "referer": "https://evil.example/x"})
        assert r.status_code == 403
        bare = httpx.AsyncClient(base_url=ratings.url, cookies=rep.cookies)
        async with bare:
            r = await bare.post("/v1/auth/logout")
            assert r.status_code == 403 and "Origin or Referer" in r.json()["detail"]
        # Nothing happened: still signed in, no token made, preferences unchanged.
        assert (await rep.get("/v1/me")).status_code == 200
        assert "stolen" not in [t["name"] for t in (await rep.get("/v1/tokens")).json()["tokens"]]
        assert (await rep.get("/v1/me/alert-preferences")).json()["email"] is True


async def test_the_same_changes_from_the_apps_own_origin_work(stack: Stack) -> None:
    ratings = await stack.ratings()
    await stack.user("rep@example.com", "sales")
    async with signed_in(ratings, "rep@example.com") as rep:  # sends Origin: ratings.url
        assert (await rep.post("/v1/alerts/1/read")).status_code == 404  # past the guard
        assert (await rep.post("/v1/alerts/read-all")).json() == {"marked": 0}
        r = await rep.put("/v1/me/alert-preferences", json={"email": False})
        assert r.status_code == 200 and r.json()["email"] is False
        assert (await rep.delete("/v1/me/alert-rules/rating_below")).status_code == 204
        assert (await rep.post("/v1/tokens", json={"name": "mine"})).status_code == 201
        # A Referer from one of its pages stands in for a missing Origin.
        r = await rep.put("/v1/me/alert-preferences", json={"email": True},
                          headers={"origin": "", "referer": f"{ratings.url}/alerts"})
        assert r.status_code == 200
        assert (await rep.post("/v1/auth/logout")).status_code == 204
        assert (await rep.get("/v1/me")).status_code == 401


async def test_token_requests_and_sign_in_pages_are_judged_apart(stack: Stack) -> None:
    ratings = await stack.ratings()
    # An API token is no ambient credential: a page elsewhere cannot attach one.
    async with await stack.client("sales") as rep:
        r = await rep.put("/v1/me/alert-preferences", json={"email": False},
                          headers={"origin": "https://integration.example"})
        assert r.status_code == 200
    # Login CSRF: another site cannot post a sign-in form of its own to the app...
    async with browser("https://evil.example") as evil:
        r = await evil.post(f"{ratings.url}/auth/magic", data={"token": "x"})
        assert r.status_code == 403
    # ...while a client sending neither cookie nor Origin (curl, an integration) may ask
    # for a link.
    async with httpx.AsyncClient(base_url=ratings.url) as curl:
        r = await curl.post("/v1/auth/magic-link", json={"email": "nobody@example.com"})
        assert r.status_code == 202


async def test_nul_in_any_text_is_refused_422_before_postgresql_sees_it(stack: Stack) -> None:
    ratings = await stack.ratings()
    async with httpx.AsyncClient(base_url=ratings.url) as anon:
        r = await anon.post("/v1/auth/magic-link", json={"email": "rep\x00@example.com"})
        assert r.status_code == 422, r.text
    async with await stack.client("admin") as admin:
        for body in ({"email": "new\x00@example.com", "role": "sales"},
                     {"email": "new@example.com", "role": "sales", "name": "N\x00"}):
            r = await admin.post("/v1/users", json=body)
            assert r.status_code == 422, (body, r.text)
        assert "NUL" in r.json()["detail"]
        # In a path, a query, a key, or as a lone surrogate PostgreSQL cannot store either.
        assert (await admin.get("/v1/assets/deck%00x")).status_code == 422
        assert (await admin.get("/v1/assets", params={"q": "a\x00"})).status_code == 422
        r = await admin.put("/v1/me/alert-rules/rating_below", json={"\x00": 1})
        assert r.status_code == 422
        asset = ('{"id": "deck-s", "title": "\\ud800", "type": "deck", "url": '
                 '"https://example.com/d.pdf", "owner_email": "admin-tester@example.com"}')
        r = await admin.post("/v1/assets", content=asset,
                             headers={"content-type": "application/json"})
        assert r.status_code == 422, r.text
        # A backslash before "u0000" is no escape: that text is fine.
        r = await admin.post("/v1/users", json={"email": "ok@example.com", "role": "sales",
                                                "name": "\\u0000"})
        assert r.status_code == 201 and r.json()["name"] == "\\u0000"


async def test_integers_past_their_bigint_columns_are_refused_422(stack: Stack) -> None:
    await stack.ratings()
    async with await stack.client("admin") as admin:
        for method, path, params in (
                ("GET", "/v1/alerts", {"before": TOO_BIG_ID}),
                ("POST", f"/v1/alerts/{TOO_BIG_ID}/read", None),
                ("DELETE", f"/v1/ingest-keys/{TOO_BIG_ID}", None),
                ("DELETE", f"/v1/tokens/{TOO_BIG_ID}", None),
                ("POST", f"/v1/users/{TOO_BIG_ID}/deactivate", None),
                ("PUT", f"/v1/assets/deck/ratings/{TOO_BIG_ID}", None),
                ("GET", "/v1/scores", {"stale_days": TOO_BIG_ID})):
            r = await admin.request(method, path, params=params)
            assert r.status_code == 422, (method, path, r.text)
        # The largest bigint itself is a fine "older than" bound.
        r = await admin.get("/v1/alerts", params={"before": str(2**63 - 1)})
        assert r.status_code == 200 and r.json()["alerts"] == []
