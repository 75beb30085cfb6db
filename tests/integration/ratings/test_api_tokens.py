"""API tokens have a name, scopes and an expiry, can be listed and revoked, and only a
signed-in session can make one: a token cannot mint its own successor."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import httpx

from harness.sign_in import signed_in
from harness.stack import RunningServer, Stack

REP = "rep@example.com"


def bearer(server: RunningServer, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.url, headers={"authorization": f"Bearer {token}"})


def soon(**delta: float) -> str:
    return (datetime.now(timezone.utc) + timedelta(**delta)).isoformat()


async def test_a_token_cannot_create_a_token_but_a_session_can(stack: Stack) -> None:
    ratings = await stack.ratings()
    await stack.user(REP, "sales")
    # Not even a token with every scope (the harness's admin token) makes a token.
    async with await stack.client("admin") as admin:
        refused = await admin.post("/v1/tokens", json={"name": "successor"})
        assert refused.status_code == 403, refused.text
    async with signed_in(ratings, REP) as session:
        made = await session.post("/v1/tokens", json={"name": "CRM sync",
                                                      "scopes": ["read", "write"]})
        assert made.status_code == 201, made.text
        token = made.json()
        assert token["name"] == "CRM sync" and token["scopes"] == ["read", "write"]
        assert token["token"].startswith("gbt_") and token["revoked_at"] is None
        expires = datetime.fromisoformat(token["expires_at"]) - datetime.now(timezone.utc)
        assert timedelta(days=89) < expires <= timedelta(days=90)
    async with bearer(ratings, token["token"]) as integration:
        assert (await integration.get("/v1/me")).json()["email"] == REP
        refused = await integration.post("/v1/tokens", json={"name": "successor",
                                                             "scopes": ["read"]})
        assert refused.status_code == 403
        assert "cannot create API tokens" in refused.json()["detail"]


async def test_a_token_stops_working_when_it_expires(stack: Stack) -> None:
    ratings = await stack.ratings()
    await stack.user(REP, "sales")
    async with signed_in(ratings, REP) as session:
        made = await session.post("/v1/tokens", json={"name": "short", "expires_at": soon(
            seconds=2)})
        assert made.status_code == 201, made.text
        for bad in (soon(seconds=-1), soon(days=366)):
            refused = await session.post("/v1/tokens", json={"name": "x", "expires_at": bad})
            assert refused.status_code == 422 and "expires_at" in refused.text
        naive = await session.post("/v1/tokens", json={"name": "x",
                                                       "expires_at": "2030-01-01T00:00:00"})
        assert naive.status_code == 422
    async with bearer(ratings, made.json()["token"]) as integration:
        assert (await integration.get("/v1/me")).status_code == 200
        expires_at = datetime.fromisoformat(made.json()["expires_at"])
        await asyncio.sleep(max(0.0, (expires_at - datetime.now(timezone.utc)).total_seconds())
                            + 0.3)
        expired = await integration.get("/v1/me")
        assert expired.status_code == 401 and expired.json()["detail"] == \
            "this API token has expired"


async def test_tokens_are_listed_and_revoked_by_their_owner_or_an_admin(stack: Stack) -> None:
    ratings = await stack.ratings()
    rep_id, _ = await stack.user(REP, "sales")
    await stack.user("other@example.com", "sales")
    async with signed_in(ratings, REP) as session:
        first = (await session.post("/v1/tokens", json={"name": "one"})).json()
        second = (await session.post("/v1/tokens", json={"name": "two"})).json()
        listed = (await session.get("/v1/tokens")).json()["tokens"]
        # The harness's own token of this user comes first; none shows its secret.
        assert [t["name"] for t in listed][-2:] == ["one", "two"]
        assert all("token" not in t for t in listed)
        assert listed[-1]["scopes"] == ["read"] and listed[-1]["expires_at"]

        async with signed_in(ratings, "other@example.com") as other:
            assert (await other.delete(f"/v1/tokens/{first['id']}")).status_code == 404
            assert (await other.get("/v1/tokens", params={"user_id": rep_id})).status_code == 403

        revoked = await session.delete(f"/v1/tokens/{first['id']}")
        assert revoked.status_code == 200 and revoked.json()["revoked_at"]
        async with bearer(ratings, first["token"]) as integration:
            refused = await integration.get("/v1/me")
            assert refused.status_code == 401
            assert refused.json()["detail"] == "this API token was revoked"
        async with bearer(ratings, second["token"]) as integration:
            assert (await integration.get("/v1/me")).status_code == 200

    async with await stack.client("admin") as admin:
        theirs = (await admin.get("/v1/tokens", params={"user_id": rep_id})).json()["tokens"]
        by_name = {t["name"]: t for t in theirs}
        assert by_name["one"]["revoked_at"] and by_name["two"]["revoked_at"] is None
        assert (await admin.delete(f"/v1/tokens/{second['id']}")).status_code == 200
        assert (await admin.delete("/v1/tokens/999999")).status_code == 404
    async with bearer(ratings, second["token"]) as integration:
        assert (await integration.get("/v1/me")).status_code == 401


async def test_a_token_does_only_what_its_scopes_allow(stack: Stack) -> None:
    ratings = await stack.ratings()
    await stack.user(REP, "sales")
    await stack.user("root@example.com", "admin")
    async with signed_in(ratings, REP) as session:
        reader = (await session.post("/v1/tokens", json={"name": "reader"})).json()
        refused = await session.post("/v1/tokens", json={"name": "x", "scopes": ["admin"]})
        assert refused.status_code == 403  # a sales rep has no admin power to hand out
    async with bearer(ratings, reader["token"]) as integration:
        assert (await integration.get("/v1/assets")).status_code == 200
        write = await integration.delete(f"/v1/tokens/{reader['id']}")
        assert write.status_code == 403
        assert write.json()["detail"] == "this API token lacks the write scope"
    async with signed_in(ratings, "root@example.com") as root:
        plain = (await root.post("/v1/tokens", json={"name": "ops",
                                                     "scopes": ["read", "write"]})).json()
        full = (await root.post("/v1/tokens", json={"name": "admin ops",
                                                    "scopes": ["read", "admin"]})).json()
        assert (await root.get("/v1/users")).status_code == 200
    async with bearer(ratings, plain["token"]) as ops:
        refused = await ops.get("/v1/users")
        assert refused.status_code == 403
        assert refused.json()["detail"] == "this API token lacks the admin scope"
    async with bearer(ratings, full["token"]) as ops:
        assert (await ops.get("/v1/users")).status_code == 200
