"""Sessions live on the server: logout ends one there, so a copied cookie stops working; an
admin ends a user's sessions, or deactivates the user, and their sessions and tokens stop
working at once."""

from __future__ import annotations

import asyncio

import httpx

from harness.sign_in import browser, land, mailed_link, signed_in
from harness.stack import Stack

REP = "rep@example.com"


def copy_of(client: httpx.AsyncClient, base_url: str) -> httpx.AsyncClient:
    """Another browser holding a copy of ``client``'s session cookie (a stolen one)."""
    return browser(base_url, cookies={"gb_session": client.cookies["gb_session"]})


async def test_logout_ends_the_session_so_a_copied_cookie_stops_working(stack: Stack) -> None:
    ratings = await stack.ratings()
    await stack.user(REP, "sales")
    async with signed_in(ratings, REP) as person, copy_of(person, ratings.url) as thief:
        assert (await thief.get("/v1/me")).json()["email"] == REP
        assert (await person.post("/v1/auth/logout")).status_code == 204
        assert (await person.get("/v1/me")).status_code == 401
        assert (await thief.get("/v1/me")).status_code == 401
        # Pages too: the copied cookie is sent to sign-in.
        page = await thief.get("/app/")
        assert page.status_code == 303 and page.headers["location"].startswith("/login")


async def test_signing_in_again_starts_a_new_session(stack: Stack) -> None:
    """The cookie a browser had before signing in (one an attacker may have planted) is
    not the one it has after."""
    ratings = await stack.ratings()
    await stack.user(REP, "sales")
    async with signed_in(ratings, REP) as person:
        before = person.cookies["gb_session"]
        sent_before = len(ratings.app.state.mailer.sent)
        await person.post("/v1/auth/magic-link", json={"email": REP})
        assert (await land(person, await mailed_link(ratings, REP, sent_before))).status_code == 303
        assert (await person.get("/v1/me")).json()["email"] == REP
        async with browser(ratings.url, cookies={"gb_session": before}) as planted:
            assert (await planted.get("/v1/me")).status_code == 401


async def test_an_admin_ends_a_users_sessions_everywhere(stack: Stack) -> None:
    ratings = await stack.ratings()
    rep_id, _ = await stack.user(REP, "sales")
    other_id, _ = await stack.user("other@example.com", "sales")
    async with (signed_in(ratings, REP) as laptop, signed_in(ratings, REP) as phone,
                signed_in(ratings, "other@example.com") as other,
                await stack.client("admin") as admin):
        # Only an admin ends someone else's sessions.
        refused = await other.delete(f"/v1/users/{rep_id}/sessions")
        assert refused.status_code == 403
        assert (await laptop.get("/v1/me")).status_code == 200
        ended = await admin.delete(f"/v1/users/{rep_id}/sessions")
        assert ended.status_code == 200 and ended.json() == {"ended": 2}
        assert (await laptop.get("/v1/me")).status_code == 401
        assert (await phone.get("/v1/me")).status_code == 401
        assert (await other.get("/v1/me")).status_code == 200
        # Anyone may sign themselves out everywhere.
        mine = await other.delete(f"/v1/users/{other_id}/sessions")
        assert mine.status_code == 200 and mine.json() == {"ended": 1}
        assert (await other.get("/v1/me")).status_code == 401
        assert (await admin.delete("/v1/users/999999/sessions")).status_code == 404


async def test_a_deactivated_user_is_signed_out_everywhere_and_cannot_sign_in(
    stack: Stack,
) -> None:
    ratings = await stack.ratings()
    rep_id, rep_token = await stack.user(REP, "sales")
    mailer = ratings.app.state.mailer
    async with (signed_in(ratings, REP) as session,
                browser(ratings.url, headers={"authorization": f"Bearer {rep_token}"}) as api,
                await stack.client("admin") as admin):
        assert (await api.get("/v1/me")).status_code == 200
        # A link mailed before the deactivation, not yet used.
        sent_before = len(mailer.sent)
        await session.post("/v1/auth/magic-link", json={"email": REP})
        pending_link = await mailed_link(ratings, REP, sent_before)

        deactivated = await admin.post(f"/v1/users/{rep_id}/deactivate")
        assert deactivated.status_code == 200 and deactivated.json()["active"] is False
        assert (await session.get("/v1/me")).status_code == 401
        refused = await api.get("/v1/me")
        assert refused.status_code == 401, refused.text
        listed = {u["email"]: u["active"] for u in (await admin.get("/v1/users")).json()["users"]}
        assert listed[REP] is False

        # No new link is mailed, and the pending one signs nobody in.
        sent_before = len(mailer.sent)
        assert (await session.post("/v1/auth/magic-link", json={"email": REP})).status_code == 202
        await asyncio.sleep(0.5)
        assert mailer.sent[sent_before:] == []
        async with browser(ratings.url) as late:
            landed = await land(late, pending_link)
            assert landed.status_code == 400 and "deactivated" in landed.text
            assert (await late.get("/v1/me")).status_code == 401

        # An admin cannot lock themselves out.
        me = (await admin.get("/v1/me")).json()
        assert (await admin.post(f"/v1/users/{me['id']}/deactivate")).status_code == 409

        # Activated again, the user signs in anew; the old token stays revoked.
        activated = await admin.post(f"/v1/users/{rep_id}/activate")
        assert activated.status_code == 200 and activated.json()["active"] is True
        assert (await api.get("/v1/me")).json()["detail"] == "this API token was revoked"
    async with signed_in(ratings, REP) as again:
        assert (await again.get("/v1/me")).json()["email"] == REP


async def test_only_admins_deactivate(stack: Stack) -> None:
    ratings = await stack.ratings()
    rep_id, _ = await stack.user(REP, "sales")
    await stack.user("boss@example.com", "executive")
    async with signed_in(ratings, "boss@example.com") as boss:
        assert (await boss.post(f"/v1/users/{rep_id}/deactivate")).status_code == 403
    async with await stack.client("admin") as admin:
        assert (await admin.post("/v1/users/999999/deactivate")).status_code == 404
        assert (await admin.post("/v1/users/0/deactivate")).status_code == 422
