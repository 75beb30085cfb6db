"""Ingest keys end to end: an admin creates one in the ratings app, an integration uses it
at ingest, the admin revokes it and ingest refuses it once its key cache refreshed."""

from __future__ import annotations

import httpx

from harness.stack import Stack, eventually
from harness.user_agents import UA_DESKTOP, UA_IPHONE

VIEW = {"type": "view", "asset_id": "deck"}


async def test_a_key_is_needed_for_api_events_and_overrides_and_stops_working_when_revoked(
    stack: Stack,
) -> None:
    stack.settings = stack.settings.model_copy(update={"ingest_key_refresh_seconds": 0.2})
    await stack.add_asset("deck")
    ingest = await stack.ingest()
    await stack.ratings()
    await stack.aggregator()
    async with await stack.client("marketing") as marketing:
        r = await marketing.post("/v1/ingest-keys", json={"name": "crm"})
        assert r.status_code == 403
    async with await stack.client() as admin:
        r = await admin.post("/v1/ingest-keys", json={"name": "crm"})
        assert r.status_code == 201, r.text
        crm = r.json()
        r = await admin.post("/v1/ingest-keys", json={"name": "other", "asset_ids": ["other"]})
        other = r.json()
    assert crm["token"].startswith("gbk_") and crm["scopes"] == ["events:write"]

    def key(token: str) -> dict[str, str]:
        return {"authorization": f"Bearer {token}", "user-agent": UA_DESKTOP}

    async with httpx.AsyncClient(base_url=ingest.url, headers={"user-agent": UA_DESKTOP}) as c:
        # Keyless: the default source is api, and the beacon may not set who or what it was.
        for item, fields in (({}, ["source=api"]),
                             ({"source": "beacon", "viewer_id": "p1"}, ["viewer_id"]),
                             ({"source": "beacon", "user_agent": UA_IPHONE}, ["user_agent"])):
            r = await c.post("/v1/events", json={"events": [{**VIEW, **item}]})
            assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
            assert r.json()["reason"] == "missing_key"
            assert r.json()["errors"] == [{"index": 0, "fields": fields}]
        # A plain beacon, as t.js sends it, needs no key.
        r = await c.post("/v1/events", json={"events": [{**VIEW, "source": "beacon"}]})
        assert r.status_code == 202
        for token in ("gbk_not-a-key", "gbt_a-user-token"):
            r = await c.post("/v1/events", json={"events": [VIEW]}, headers=key(token))
            assert r.status_code == 401 and r.json()["reason"] == "unknown_key"

        # The key was made after ingest started: it works once the cache refreshed.
        keyed = {"events": [{**VIEW, "viewer_id": "crm-7", "user_agent": UA_IPHONE}]}
        r = await eventually(lambda: c.post("/v1/events", json=keyed, headers=key(crm["token"])),
                             lambda r: r.status_code != 401, timeout=5)
        assert r.status_code == 202 and r.json()["accepted"] == 1
        # Made a moment after crm's: a refresh may fall between the two.
        r = await eventually(
            lambda: c.post("/v1/events", json={"events": [VIEW]}, headers=key(other["token"])),
            lambda r: r.status_code != 401, timeout=5)
        assert r.status_code == 403 and r.json()["reason"] == "out_of_scope"
        assert r.json()["errors"] == [{"index": 0, "asset_id": "deck"}]

        async with await stack.client() as admin:
            r = await admin.delete(f"/v1/ingest-keys/{crm['id']}")
            assert r.status_code == 200 and r.json()["revoked_at"] is not None
            assert (await admin.delete("/v1/ingest-keys/999999")).status_code == 404
            listed = (await admin.get("/v1/ingest-keys")).json()["ingest_keys"]
        assert {k["name"]: k["revoked_at"] is not None for k in listed} == {
            "crm": True, "other": False}
        assert all("token" not in k for k in listed)
        r = await eventually(lambda: c.post("/v1/events", json=keyed, headers=key(crm["token"])),
                             lambda r: r.status_code != 202, timeout=5)
        assert r.status_code == 403 and r.json()["reason"] == "revoked_key"

    usage = await eventually(lambda: stack.usage("deck"), lambda u: u["views"] == 2)
    assert {d["device_class"] for d in usage["devices"]} == {"desktop", "phone"}
