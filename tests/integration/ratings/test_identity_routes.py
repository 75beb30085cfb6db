"""Sign-in by magic link, sessions, API tokens, and who may do what."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import httpx

from harness.sign_in import browser, land, link_in, mailed_link
from harness.stack import Stack

ASSET = {"id": "launch-deck", "title": "Launch deck", "type": "deck",
         "url": "https://example.com/deck.pdf", "owner_email": "owner@example.com",
         "tags": ["launch", "EMEA"], "stage": "awareness"}


async def test_magic_link_signs_in_once_and_the_session_reads_the_api(stack: Stack) -> None:
    ratings = await stack.ratings()
    await stack.user("Rep@Example.com", "sales", "Rita Rep")
    app = ratings.app
    async with browser(ratings.url) as client:
        assert (await client.get("/v1/me")).status_code == 401
        sent_before = len(app.state.mailer.sent)
        r2 = await client.post("/v1/auth/magic-link", json={"email": "stranger@example.com"})
        r = await client.post("/v1/auth/magic-link", json={"email": "rep@example.com"})
        assert r.status_code == 202
        # Unknown addresses get the same answer, and no mail.
        assert r2.status_code == 202 and r2.json() == r.json()
        await mailed_link(ratings, "rep@example.com", sent_before)
        await asyncio.sleep(0.3)  # the stranger's lookup, started first, is long done
        assert len(app.state.mailer.sent) == sent_before + 1
        to, _, body = app.state.mailer.sent[-1]
        assert to == "rep@example.com"
        link = link_in(body)
        r = await land(client, link)
        assert r.status_code == 303 and r.headers["location"] == "/app/"
        me = (await client.get("/v1/me")).json()
        assert me["email"] == "rep@example.com" and me["role"] == "sales" and me["name"] == "Rita Rep"
        # The link is single use.
        async with httpx.AsyncClient() as other:
            again = await other.get(link)
            assert again.status_code == 400 and "already used" in again.text
        await client.post("/v1/auth/logout")
        assert (await client.get("/v1/me")).status_code == 401


async def test_forged_magic_links_and_tokens_are_refused(stack: Stack) -> None:
    ratings = await stack.ratings()
    async with httpx.AsyncClient(base_url=ratings.url) as client:
        r = await client.get("/auth/magic", params={"token": "forged.token.value"})
        assert r.status_code == 400 and "not valid" in r.text
        r = await client.get("/v1/assets", headers={"authorization": "Bearer gbt_forged"})
        assert r.status_code == 401 and r.json()["detail"] == "invalid API token", r.text


async def test_only_marketing_and_admin_edit_the_catalog_and_anyone_signed_in_reads(
    stack: Stack,
) -> None:
    await stack.ratings()
    # Owners are users first, and only the owner or an admin edits an asset (issue 12).
    _, owner_token = await stack.user("owner@example.com", "marketing")
    async with await stack.client("sales") as sales:
        r = await sales.post("/v1/assets", json=ASSET)
        assert r.status_code == 403 and "needs marketing, admin" in r.json()["detail"]
    async with await stack.client("executive") as executive:
        assert (await executive.post("/v1/assets", json=ASSET)).status_code == 403
    async with await stack.client("marketing") as marketing:
        r = await marketing.post("/v1/assets", json=ASSET)
        assert r.status_code == 201
        created = r.json()
        assert created["tags"] == ["launch", "emea"] and created["stage"] == "awareness"
        assert created["owner_email"] == "owner@example.com" and created["owner_id"]
    async with stack.client_for(owner_token) as marketing:
        changed = {**ASSET, "title": "Launch deck v2", "stage": "decision"}
        r = await marketing.put("/v1/assets/launch-deck", json=changed)
        assert r.status_code == 200 and r.json()["title"] == "Launch deck v2"
        r = await marketing.put("/v1/assets/launch-deck", json={**changed, "id": "renamed"})
        assert r.status_code == 422
    async with await stack.client("executive") as executive:
        listed = (await executive.get("/v1/assets", params={"stage": "decision"})).json()
        assert [a["id"] for a in listed["assets"]] == ["launch-deck"]
        assert (await executive.get("/v1/assets", params={"q": "nothing"})).json()["assets"] == []
        assert (await executive.get("/v1/assets/launch-deck/usage")).status_code == 200
        recent = (await executive.get("/v1/assets", params={"recent": "true"})).json()["assets"]
        assert recent == []
        await executive.get("/v1/assets/launch-deck")
        recent = (await executive.get("/v1/assets", params={"recent": "true"})).json()["assets"]
        assert [a["id"] for a in recent] == ["launch-deck"]
    async with await stack.client("admin") as admin:
        r = await admin.post("/v1/users", json={"email": "new@example.com", "role": "sales"})
        assert r.status_code == 201 and r.json()["role"] == "sales"
        assert (await admin.delete("/v1/assets/launch-deck")).status_code == 204
    async with await stack.client("sales") as sales:
        assert (await sales.post("/v1/users", json={"email": "x@example.com",
                                                     "role": "admin"})).status_code == 403


async def test_glassboard_users_add_creates_a_user_with_a_working_token(stack: Stack) -> None:
    await stack.ratings()
    env = {**os.environ, "DATABASE_URL": stack.settings.database_url}
    done = subprocess.run(
        [sys.executable, "-m", "services.cli", "users", "add", "ceo@example.com",
         "--role", "executive", "--name", "Casey", "--token"],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "ceo@example.com" in done.stdout and "executive" in done.stdout
    token = done.stdout.split("API token (shown once): ")[1].strip()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{stack.settings.ratings_port}",
                                 headers={"authorization": f"Bearer {token}"}) as client:
        assert (await client.get("/v1/me")).json()["role"] == "executive"
    bad = subprocess.run([sys.executable, "-m", "services.cli", "users", "add", "nope",
                          "--role", "sales"], env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "not an email" in bad.stderr


async def test_production_never_prints_sign_in_links(stack: Stack) -> None:
    from pydantic import SecretStr

    from harness.stack import RunningServer
    from services.ratings.main import create_app

    production = stack.settings.model_copy(update={
        "env": "production", "signing_secret": SecretStr("a-real-secret-for-this-test-" * 2)})
    server = await RunningServer(create_app(production), stack.settings.ratings_port).start()
    try:
        async with httpx.AsyncClient(base_url=server.url) as client:
            r = await client.post("/v1/auth/magic-link", json={"email": "rep@example.com"})
            assert r.status_code == 503 and "not configured" in r.json()["detail"]
    finally:
        await server.stop()
