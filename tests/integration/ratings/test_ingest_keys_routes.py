"""The ingest-key API of the identity context: admins only, the token shown once and only
its SHA-256 kept, revocation kept as a date."""

from __future__ import annotations

import hashlib

import asyncpg

from harness.stack import Stack


async def test_admins_create_list_and_revoke_ingest_keys_kept_as_hashes(stack: Stack) -> None:
    await stack.ratings()
    for role in ("marketing", "sales"):
        async with await stack.client(role) as client:
            assert (await client.post("/v1/ingest-keys", json={"name": "x"})).status_code == 403
            assert (await client.get("/v1/ingest-keys")).status_code == 403
            assert (await client.delete("/v1/ingest-keys/1")).status_code == 403
    async with await stack.client() as admin:
        for bad in ({}, {"name": ""}, {"name": "x", "scopes": ["events:read"]},
                    {"name": "x", "asset_ids": ["Not An Id"]}, {"name": "x", "colour": 1}):
            assert (await admin.post("/v1/ingest-keys", json=bad)).status_code == 422, bad
        r = await admin.post("/v1/ingest-keys", json={"name": " webinar tool ",
                                                       "asset_ids": ["deck", "sheet"]})
        assert r.status_code == 201
        created = r.json()
        assert created["name"] == "webinar tool" and created["asset_ids"] == ["deck", "sheet"]
        assert created["scopes"] == ["events:write"] and created["revoked_at"] is None
        token = created.pop("token")
        assert token.startswith("gbk_") and len(token) > 40
        assert (await admin.get("/v1/ingest-keys")).json() == {"ingest_keys": [created]}

        revoked = (await admin.delete(f"/v1/ingest-keys/{created['id']}")).json()
        again = (await admin.delete(f"/v1/ingest-keys/{created['id']}")).json()
        assert revoked["revoked_at"] is not None and again == revoked  # the first date stays

    conn = await asyncpg.connect(stack.settings.database_url)
    try:
        row = await conn.fetchrow("SELECT * FROM ingest_keys")
    finally:
        await conn.close()
    assert bytes(row["token_sha256"]) == hashlib.sha256(token.encode()).digest()
    assert token not in repr(dict(row))
