"""The share-links API on the real ratings app and PostgreSQL: creation (one and in bulk,
all or nothing), validation, revocation, expiry, who sees what (creator, their manager,
admins; everyone else 404 and aggregates), erasing a recipient, share usage and the alert
settings. Visits are the aggregator's rows in link_visits: inserted here as it writes them."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import asyncpg
import httpx

from devtools.settings import StackSettings
from harness.stack import Stack

ASSET = "case-study"
OTHER = "pricing-sheet"
NOW = datetime.now(timezone.utc).replace(microsecond=0)


def link_body(**overrides: Any) -> dict[str, Any]:
    return {"asset_id": ASSET, "recipient_email": "dana@prospect.example", **overrides}


async def create(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    response = await client.post("/v1/share-links", json=link_body(**overrides))
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def add_visit(settings: StackSettings, link_id: str, asset_id: str, *, minutes_ago: int,
                    engaged_ms: int, forward_no: int | None = None,
                    device: str = "desktop") -> str:
    """A counted open as the aggregator records it (its table, written here as setup)."""
    event_id = uuid.uuid4()
    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.execute(
            "INSERT INTO link_visits (event_id, link_id, asset_id, opened_at, browser_key, "
            "device_class, os, browser, forwarded, forward_no, engaged_ms, pages) "
            "VALUES ($1, $2, $3, $4, $5, $6, 'iOS', 'Safari', $7, $8, $9, '{1,2}')",
            event_id, link_id, asset_id, NOW - timedelta(minutes=minutes_ago),
            uuid.uuid4().hex, device, forward_no is not None, forward_no, engaged_ms)
    finally:
        await conn.close()
    return str(event_id)


async def team(stack: Stack) -> dict[str, tuple[int, httpx.AsyncClient]]:
    """Two reps, the first one's manager, an executive and an admin, each with a client;
    the admin makes the manager the first rep's manager through the API."""
    people = {"rep": "sales", "rep2": "sales", "boss": "manager", "exec": "executive",
              "admin": "admin"}
    out: dict[str, tuple[int, httpx.AsyncClient]] = {}
    for who, role in people.items():
        user_id, token = await stack.user(f"{who}@example.com", role, who.title())
        out[who] = (user_id, stack.client_for(token))
    admin = out["admin"][1]
    put = await admin.put(f"/v1/users/{out['rep'][0]}/manager",
                          json={"manager_id": out["boss"][0]})
    assert put.status_code == 200, put.text
    assert put.json() == {"user_id": out["rep"][0], "manager_id": out["boss"][0]}
    return out


async def start(stack: Stack) -> dict[str, tuple[int, httpx.AsyncClient]]:
    await stack.add_asset(ASSET, title="Case Study: <Acme> & Co")
    await stack.add_asset(OTHER)
    await stack.ratings()
    return await team(stack)


async def close(people: dict[str, tuple[int, httpx.AsyncClient]]) -> None:
    for _, client in people.values():
        await client.aclose()


async def test_a_link_has_an_unguessable_id_its_ingest_url_and_an_email_snippet(
    stack: Stack,
) -> None:
    people = await start(stack)
    rep = people["rep"][1]
    try:
        link = await create(rep, recipient_name="Dana", company="Prospect Inc",
                            crm_contact_id="003XY", email_gate=True,
                            recipient_email="Dana@Prospect.Example")
        assert re.fullmatch(r"[A-Za-z0-9_-]{22}", link["id"])
        assert link["url"] == f"{stack.settings.ingest_base_url}/s/{link['id']}"
        assert link["recipient_email"] == "dana@prospect.example"
        assert link["status"] == "active" and link["visits"] == 0 and link["forwards"] == 0
        assert link["email_gate"] is True and link["gate_email_verified"] is False
        assert link["creator"]["id"] == people["rep"][0] and link["account"] == "Prospect Inc"
        snippet = link["email_snippet"]
        assert snippet["subject"] == "Case Study: <Acme> & Co"
        assert link["url"] in snippet["text"] and snippet["text"].startswith("Hi Dana,")
        assert f'href="{link["url"]}"' in snippet["html"]
        assert "&lt;Acme&gt; &amp; Co" in snippet["html"] and "<Acme>" not in snippet["html"]

        other = await create(rep)
        assert other["id"] != link["id"] and other["account"] == "prospect.example"
        assert other["email_snippet"]["text"].startswith("Hi,\n")
        listed = (await rep.get("/v1/share-links")).json()["links"]
        assert [x["id"] for x in listed] == [other["id"], link["id"]]  # newest first
        only = (await rep.get("/v1/share-links", params={"asset": OTHER})).json()["links"]
        assert only == []
    finally:
        await close(people)


async def test_bulk_creates_all_or_none_and_bad_bodies_are_422(stack: Stack) -> None:
    people = await start(stack)
    rep, executive = people["rep"][1], people["exec"][1]
    try:
        bulk = await rep.post("/v1/share-links/bulk", json={"links": [
            link_body(recipient_email=f"p{i}@acme.example", company="Acme") for i in range(3)]})
        assert bulk.status_code == 201, bulk.text
        made = bulk.json()["links"]
        assert [x["recipient_email"] for x in made] == [f"p{i}@acme.example" for i in range(3)]
        assert all(x["url"] in x["email_snippet"]["text"] for x in made)

        refused = await rep.post("/v1/share-links/bulk", json={"links": [
            link_body(), link_body(asset_id="no-such-asset"), link_body()]})
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"][0]["loc"] == ["body", "links", 1, "asset_id"]
        listed = (await rep.get("/v1/share-links")).json()["links"]
        assert len(listed) == 3  # nothing of the refused batch was made

        # The most a request may hold fits the body limit (RATINGS_MAX_BODY_BYTES).
        most = await rep.post("/v1/share-links/bulk", json={"links": [
            link_body(recipient_email=f"c{i}@crowd.example") for i in range(500)]})
        assert most.status_code == 201, most.text
        assert len({x["id"] for x in most.json()["links"]}) == 500
        too_many = {"links": [link_body()] * 501}
        assert (await rep.post("/v1/share-links/bulk", json=too_many)).status_code == 422
        assert (await rep.post("/v1/share-links/bulk", json={"links": []})).status_code == 422
        past = (NOW - timedelta(minutes=1)).isoformat()
        for bad in (link_body(recipient_email="not-an-email"), link_body(asset_id="Bad Id"),
                    link_body(expires_at=past), link_body(expires_at="2026-01-01T00:00:00"),
                    link_body(recipient_name="a\x00b"), link_body(company="x" * 201),
                    link_body(extra="field"), {"recipient_email": "dana@prospect.example"}):
            answer = await rep.post("/v1/share-links", json=bad)
            assert answer.status_code == 422, (bad, answer.text)
        unknown = await rep.post("/v1/share-links", json=link_body(asset_id="no-such-asset"))
        assert unknown.status_code == 422
        assert unknown.json()["detail"][0]["loc"] == ["body", "asset_id"]

        # Executives read the aggregates; they do not send content.
        assert (await executive.post("/v1/share-links", json=link_body())).status_code == 403
        assert (await people["boss"][1].post("/v1/share-links",
                                             json=link_body())).status_code == 201
    finally:
        await close(people)


async def test_revoked_and_expired_links_say_so(stack: Stack) -> None:
    people = await start(stack)
    rep, rep2, boss = people["rep"][1], people["rep2"][1], people["boss"][1]
    try:
        soon = datetime.now(timezone.utc) + timedelta(seconds=1.5)
        expiring = await create(rep, expires_at=soon.isoformat())
        assert expiring["status"] == "active"
        assert expiring["expires_at"] == soon.isoformat()

        link = await create(rep)
        assert (await rep2.delete(f"/v1/share-links/{link['id']}")).status_code == 404
        revoked = await rep.delete(f"/v1/share-links/{link['id']}")
        assert revoked.status_code == 200, revoked.text
        assert revoked.json()["status"] == "revoked" and revoked.json()["revoked_at"]
        again = (await boss.delete(f"/v1/share-links/{link['id']}")).json()
        assert again["revoked_at"] == revoked.json()["revoked_at"]  # the first time stays
        mine = await create(boss)
        assert (await rep.delete(f"/v1/share-links/{mine['id']}")).status_code == 404
        assert (await people["admin"][1].delete(f"/v1/share-links/{mine['id']}")).json()[
            "status"] == "revoked"

        await asyncio.sleep(max(0.0, (soon - datetime.now(timezone.utc)).total_seconds()) + 0.2)
        shown = (await rep.get(f"/v1/share-links/{expiring['id']}")).json()
        assert shown["status"] == "expired"
        for missing in ("x" * 22, "not-a-link", "a" * 64):
            assert (await rep.get(f"/v1/share-links/{missing}")).status_code == 404
            assert (await rep.delete(f"/v1/share-links/{missing}")).status_code == 404
    finally:
        await close(people)


async def test_only_the_creator_their_manager_and_admins_see_a_link(stack: Stack) -> None:
    people = await start(stack)
    rep, rep2, boss = people["rep"][1], people["rep2"][1], people["boss"][1]
    executive, admin = people["exec"][1], people["admin"][1]
    try:
        link = await create(rep, recipient_name="Dana")
        theirs = await create(rep2, recipient_email="lee@other.example")
        await add_visit(stack.settings, link["id"], ASSET, minutes_ago=3, engaged_ms=4000)

        def ids(response: httpx.Response) -> set[str]:
            assert response.status_code == 200, response.text
            return {x["id"] for x in response.json()["links"]}

        assert ids(await rep.get("/v1/share-links")) == {link["id"]}
        assert ids(await rep2.get("/v1/share-links")) == {theirs["id"]}
        # The manager sees their rep's links, not another rep's; the admin sees all.
        assert ids(await boss.get("/v1/share-links")) == {link["id"]}
        assert ids(await boss.get("/v1/share-links", params={"mine": "true"})) == set()
        assert ids(await admin.get("/v1/share-links")) == {link["id"], theirs["id"]}
        assert ids(await executive.get("/v1/share-links")) == set()
        for client, status in ((rep2, 404), (executive, 404), (boss, 200), (admin, 200)):
            detail = await client.get(f"/v1/share-links/{link['id']}")
            assert detail.status_code == status, detail.text
        shown = (await boss.get(f"/v1/share-links/{link['id']}")).json()
        assert shown["recipient_name"] == "Dana" and len(shown["visit_list"]) == 1
        # Everyone sees the aggregates, and no recipient in them.
        usage = await executive.get(f"/v1/assets/{ASSET}/share-usage")
        assert usage.status_code == 200 and usage.json()["links_sent"] == 2
        assert "prospect.example" not in usage.text and "lee@" not in usage.text
        # Without a manager, the manager sees nothing more.
        unset = await admin.put(f"/v1/users/{people['rep'][0]}/manager",
                                json={"manager_id": None})
        assert unset.json()["manager_id"] is None
        assert (await boss.get(f"/v1/share-links/{link['id']}")).status_code == 404
        assert (await rep2.get("/v1/share-links/accounts")).json()["accounts"][0][
            "account"] == "other.example"
    finally:
        await close(people)


async def test_setting_a_manager_is_for_admins_and_must_name_a_manager(stack: Stack) -> None:
    people = await start(stack)
    admin, rep_id, rep2_id = people["admin"][1], people["rep"][0], people["rep2"][0]
    try:
        path = f"/v1/users/{rep_id}/manager"
        body = {"manager_id": people["boss"][0]}
        assert (await people["boss"][1].put(path, json=body)).status_code == 403
        assert (await admin.put(path, json={"manager_id": rep2_id})).status_code == 422
        assert (await admin.put(path, json={"manager_id": rep_id})).status_code == 422
        assert (await admin.put(path, json={"manager_id": 999_999})).status_code == 422
        assert (await admin.put("/v1/users/999999/manager", json=body)).status_code == 404
        admin_id = people["admin"][0]
        assert (await admin.put(path, json={"manager_id": admin_id})).json()[
            "manager_id"] == admin_id
    finally:
        await close(people)


async def test_visits_forwards_roll_ups_share_usage_and_erasing_keeps_the_counts(
    stack: Stack,
) -> None:
    people = await start(stack)
    rep, rep2, admin = people["rep"][1], people["rep2"][1], people["admin"][1]
    try:
        a = await create(rep, recipient_name="Dana", company="Prospect Inc")
        b = await create(rep, recipient_email="kim@prospect-two.example")
        c = await create(rep2, recipient_email="lee@other.example")
        await create(rep, asset_id=OTHER)  # another asset's link counts for that asset only
        first = await add_visit(stack.settings, a["id"], ASSET, minutes_ago=30,
                                engaged_ms=10_000, device="phone")
        fwd = await add_visit(stack.settings, a["id"], ASSET, minutes_ago=10, engaged_ms=3_000,
                              forward_no=1)
        await add_visit(stack.settings, a["id"], ASSET, minutes_ago=5, engaged_ms=1_000,
                        forward_no=1)
        await add_visit(stack.settings, b["id"], ASSET, minutes_ago=20, engaged_ms=20_000)

        detail = (await rep.get(f"/v1/share-links/{a['id']}")).json()
        assert detail["visits"] == 3 and detail["forwards"] == 1
        assert detail["engaged_ms"] == 14_000 and detail["last_device"] == "desktop"
        assert detail["last_opened_at"] == (NOW - timedelta(minutes=5)).isoformat()
        visits = detail["visit_list"]
        assert [v["who"] for v in visits] == ["forward 1", "forward 1", "recipient"]
        assert visits[1]["event_id"] == fwd and visits[2]["event_id"] == first
        assert visits[2]["device_class"] == "phone" and visits[2]["engaged_ms"] == 10_000
        assert visits[2]["pages"] == [1, 2] and visits[2]["os"] == "iOS"

        listed = {x["id"]: x for x in (await rep.get("/v1/share-links",
                                                     params={"asset": ASSET})).json()["links"]}
        assert set(listed) == {a["id"], b["id"]}
        assert listed[b["id"]]["visits"] == 1 and listed[b["id"]]["forwards"] == 0

        rolled = (await rep.get("/v1/share-links/accounts")).json()["accounts"]
        assert [r["account"] for r in rolled] == ["Prospect Inc", "prospect-two.example",
                                                  "prospect.example"]
        assert rolled[0] == {"account": "Prospect Inc", "links": 1, "opened": 1, "visits": 3,
                             "forwards": 1, "engaged_ms": 14_000,
                             "last_opened_at": detail["last_opened_at"]}

        usage = (await rep2.get(f"/v1/assets/{ASSET}/share-usage")).json()
        assert usage["links_sent"] == 3 and usage["opened"] == 2
        assert usage["open_rate"] == round(2 / 3, 4)
        assert usage["forwarded"] == 1 and usage["forward_rate"] == 0.5
        # Per recipient who opened: a's 10 s (its forwards are not the recipient), b's 20 s.
        assert usage["median_engaged_ms_per_recipient"] == 15_000
        assert [(r["email"], r["links"]) for r in usage["reps"]] == [
            ("rep@example.com", 2), ("rep2@example.com", 1)]
        assert (await rep.get("/v1/assets/no-such/share-usage")).status_code == 404
        empty = (await rep.get(f"/v1/assets/{OTHER}/share-usage")).json()
        assert empty["links_sent"] == 1 and empty["opened"] == 0 and empty["open_rate"] == 0
        # The board's column: every shared asset's links sent and opened, nothing more.
        board = (await rep2.get("/v1/share-usage")).json()
        assert board == {"assets": {
            ASSET: {"links_sent": 3, "opened": 2, "open_rate": round(2 / 3, 4)},
            OTHER: {"links_sent": 1, "opened": 0, "open_rate": 0.0}}}

        # Another rep cannot erase my recipient; I can; an admin can erase anyone's.
        erase = {"email": "DANA@prospect.example"}
        assert (await rep2.post("/v1/share-links/erase", json=erase)).json() == {"erased": 0}
        # Both of my links sent to that address: this asset's and the other's.
        assert (await rep.post("/v1/share-links/erase", json=erase)).json() == {"erased": 2}
        gone = (await rep.get(f"/v1/share-links/{a['id']}")).json()
        assert gone["recipient_email"] is None and gone["recipient_name"] is None
        assert gone["company"] is None and gone["account"] is None and gone["erased_at"]
        assert gone["visits"] == 3 and len(gone["visit_list"]) == 3
        after = (await rep2.get(f"/v1/assets/{ASSET}/share-usage")).json()
        assert after == usage
        assert (await admin.post("/v1/share-links/erase",
                                 json={"email": "lee@other.example"})).json() == {"erased": 1}
        assert (await rep2.get(f"/v1/share-links/{c['id']}")).json()["recipient_email"] is None
        assert (await rep.post("/v1/share-links/erase", json={"email": "x"})).status_code == 422
    finally:
        await close(people)


async def test_share_alert_preferences_have_defaults_and_bounds(stack: Stack) -> None:
    people = await start(stack)
    rep = people["rep"][1]
    try:
        path = "/v1/me/share-alert-preferences"
        defaults = (await rep.get(path)).json()
        assert defaults == {"first_open": True, "reopen_after_days": 7, "forward": True,
                            "long_read_seconds": 120, "quiet_from_hour": 0, "quiet_to_hour": 0}
        mine = {**defaults, "forward": False, "quiet_from_hour": 22, "quiet_to_hour": 7}
        assert (await rep.put(path, json=mine)).json() == mine
        assert (await rep.get(path)).json() == mine
        assert (await people["rep2"][1].get(path)).json() == defaults
        for bad in ({"quiet_from_hour": 24}, {"reopen_after_days": -1}, {"sms": True}):
            assert (await rep.put(path, json={**mine, **bad})).status_code == 422
    finally:
        await close(people)
