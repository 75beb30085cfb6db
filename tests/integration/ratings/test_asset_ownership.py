"""Who may change an asset, who may own one, and what deleting one takes with it: on the
real broker and PostgreSQL, through the HTTP APIs of the ratings app and ingest (issue 12,
"A marketing user can repoint another marketer's asset")."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from harness.db import fetch, fetchval
from harness.stack import Stack, eventually
from harness.user_agents import UA_DESKTOP

MIA, MAX = "mia@example.com", "max@example.com"
ASSET = {"id": "pricing-sheet", "title": "Pricing sheet", "type": "product_sheet",
         "url": "https://cdn.example.com/pricing.pdf", "owner_email": MIA}


async def users_named(stack: Stack, email: str) -> int:
    return int(await fetchval(stack.settings, "SELECT count(*) FROM users WHERE email = $1",
                              email))


async def test_a_marketer_cannot_edit_or_delete_another_marketers_asset(stack: Stack) -> None:
    ingest = await stack.ingest()
    await stack.ratings()
    _, mia = await stack.user(MIA, "marketing")
    _, max_ = await stack.user(MAX, "marketing")
    async with stack.client_for(mia) as owner:
        assert (await owner.post("/v1/assets", json=ASSET)).status_code == 201

    async with stack.client_for(max_) as other:
        repointed = {**ASSET, "url": "https://evil.example.net/login"}
        r = await other.put("/v1/assets/pricing-sheet", json=repointed)
        assert r.status_code == 403 and "owner or an admin" in r.json()["detail"]
        r = await other.delete("/v1/assets/pricing-sheet")
        assert r.status_code == 403 and "owner or an admin" in r.json()["detail"]
        still = (await other.get("/v1/assets/pricing-sheet")).json()
        assert still["url"] == ASSET["url"]
    # Readers of /d/ID still reach the owner's file, not the other marketer's site.
    async with httpx.AsyncClient(headers={"user-agent": UA_DESKTOP}) as reader:
        r = await eventually(lambda: reader.get(f"{ingest.url}/d/pricing-sheet"),
                             lambda r: r.status_code == 302)
        assert r.headers["location"] == ASSET["url"]

    async with stack.client_for(mia) as owner:
        r = await owner.put("/v1/assets/pricing-sheet", json={**ASSET, "title": "Pricing v2"})
        assert r.status_code == 200 and r.json()["title"] == "Pricing v2"
    async with await stack.client("admin") as admin:
        r = await admin.put("/v1/assets/pricing-sheet", json={**ASSET, "title": "Pricing v3"})
        assert r.status_code == 200 and r.json()["title"] == "Pricing v3"
    async with stack.client_for(max_) as other:
        assert (await other.put("/v1/assets/nope", json={**ASSET, "id": "nope"})).status_code == 404


async def test_only_an_admin_reassigns_an_owner(stack: Stack) -> None:
    await stack.ratings()
    _, mia = await stack.user(MIA, "marketing")
    max_id, max_ = await stack.user(MAX, "marketing")
    async with stack.client_for(mia) as owner:
        assert (await owner.post("/v1/assets", json=ASSET)).status_code == 201
        # The owner may edit, but not hand the asset (and its alerts) to someone else...
        r = await owner.put("/v1/assets/pricing-sheet", json={**ASSET, "owner_email": MAX})
        assert r.status_code == 403 and "only an admin" in r.json()["detail"]
    async with stack.client_for(max_) as other:
        # ...nor take it: not even by naming themselves.
        r = await other.put("/v1/assets/pricing-sheet", json={**ASSET, "owner_email": MAX})
        assert r.status_code == 403

    async with await stack.client("admin") as admin:
        r = await admin.put("/v1/assets/pricing-sheet", json={**ASSET, "owner_email": MAX})
        assert r.status_code == 200 and r.json()["owner_id"] == max_id
        assert r.json()["owner_email"] == MAX
    async with stack.client_for(mia) as former:
        assert (await former.delete("/v1/assets/pricing-sheet")).status_code == 403


async def test_an_unknown_owner_is_refused_with_422_and_no_account_is_created(
    stack: Stack, tmp_path: Path,
) -> None:
    await stack.ratings()
    await stack.user(MIA, "marketing")
    async with await stack.client("admin") as admin:
        assert (await admin.post("/v1/assets", json=ASSET)).status_code == 201
        r = await admin.put("/v1/assets/pricing-sheet",
                            json={**ASSET, "owner_email": "ghost@example.com"})
        assert r.status_code == 422
        [error] = r.json()["detail"]
        assert error["loc"] == ["body", "owner_email"] and "not an active user" in error["msg"]
        r = await admin.post("/v1/assets", json={**ASSET, "id": "new-deck",
                                                 "owner_email": "Ghost2@Example.com"})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "owner_email"]
        assert (await admin.get("/v1/assets/new-deck")).status_code == 404
        assert (await admin.get("/v1/assets/pricing-sheet")).json()["owner_email"] == MIA
    async with await stack.client("marketing") as marketing:
        r = await marketing.post("/v1/assets", json={**ASSET, "id": "x-deck",
                                                     "owner_email": "ghost3@example.com"})
        assert r.status_code == 422

    # The CSV import is all or nothing and creates no account either.
    csv_file = tmp_path / "assets.csv"
    csv_file.write_text("id,title,type,url,owner_email\n"
                        f"case-acme,Acme,case_study,https://example.com/acme,{MIA}\n"
                        "launch-deck,Launch,deck,https://example.com/deck,ghost4@example.com\n")
    env = {**os.environ, "DATABASE_URL": stack.settings.database_url}
    run = [sys.executable, "-m", "services.cli", "assets", "import", str(csv_file)]
    refused = subprocess.run(run, env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2, refused.stdout
    assert "ghost4@example.com is not an active user" in refused.stderr
    assert await fetch(stack.settings, "SELECT id FROM assets WHERE id = 'case-acme'") == []

    for ghost in ("ghost@example.com", "ghost2@example.com", "ghost3@example.com",
                  "ghost4@example.com"):
        assert await users_named(stack, ghost) == 0, ghost


async def _rating_total(stack: Stack, asset_id: str) -> int:
    """Ratings of the asset in the aggregator's rating_daily (what every score sums)."""
    return int(await fetchval(stack.settings, "SELECT coalesce(sum(ratings), 0) FROM "
                                              "rating_daily WHERE asset_id = $1", asset_id))


async def _all_time(client: httpx.AsyncClient, asset_id: str) -> dict[str, Any]:
    response = await client.get(f"/v1/assets/{asset_id}/score")
    assert response.status_code == 200, response.text
    return response.json()["windows"]["all"]  # type: ignore[no-any-return]


async def test_a_deleted_asset_leaves_the_aggregates_the_board_and_the_edge(stack: Stack) -> None:
    ingest = await stack.ingest()
    await stack.ratings()
    aggregator = await stack.aggregator()
    _, mia = await stack.user(MIA, "marketing")
    raters = [(await stack.user(f"rep{i}@example.com", "sales"))[1] for i in range(3)]
    async with stack.client_for(mia) as owner:
        for asset_id in ("doomed", "kept"):
            r = await owner.post("/v1/assets", json={**ASSET, "id": asset_id, "type": "deck"})
            assert r.status_code == 201, r.text
    for token, (doomed, kept) in zip(raters, [(5, 2), (5, 2), (4, None)], strict=True):
        async with stack.client_for(token) as rater:
            assert (await rater.put("/v1/assets/doomed/rating",
                                    json={"stars": doomed})).status_code == 200
            if kept is not None:
                assert (await rater.put("/v1/assets/kept/rating",
                                        json={"stars": kept})).status_code == 200
    async with stack.client_for(mia) as owner:
        await eventually(lambda: _rating_total(stack, "doomed"), lambda n: n == 3)
        before = await eventually(lambda: _all_time(owner, "kept"),
                                  lambda s: s["prior"]["mean"] is not None)
        assert before["prior"]["mean"] == round((5 + 5 + 4 + 2 + 2) / 5, 4)

        assert (await owner.delete("/v1/assets/doomed")).status_code == 204
        assert (await owner.delete("/v1/assets/doomed")).status_code == 404

        # Its ratings leave the aggregator's counts, withdrawn as raters withdraw them...
        await eventually(lambda: _rating_total(stack, "doomed"), lambda n: n == 0)
        after = await _all_time(owner, "kept")
        assert after["count"] == 2 and after["prior"]["mean"] == 2.0
        # ...and the asset leaves the catalog, its page, the board and its score.
        assert (await owner.get("/v1/assets/doomed")).status_code == 404
        assert (await owner.get("/v1/assets/doomed/score")).status_code == 404
        listed = (await owner.get("/v1/assets")).json()["assets"]
        assert [a["id"] for a in listed] == ["kept"]
        board = (await owner.get("/v1/scores", params={"window": "120d"})).json()
        assert [i["asset_id"] for i in board["items"]] == ["kept"]
        # Its id is never reused: old usage and alerts must not attach to new content.
        r = await owner.post("/v1/assets", json={**ASSET, "id": "doomed", "type": "deck"})
        assert r.status_code == 409 and "was deleted" in r.json()["detail"]
    async with stack.client_for(raters[0]) as rater:
        r = await rater.put("/v1/assets/doomed/rating", json={"stars": 1})
        assert r.status_code == 404
    assert await fetch(stack.settings, "SELECT asset_id FROM ratings ORDER BY asset_id") == [
        {"asset_id": "kept"}, {"asset_id": "kept"}]

    # Ingest stops redirecting and counting it once its catalog refreshes (HEAD never
    # counts, so waiting for that counts nothing).
    async with httpx.AsyncClient(headers={"user-agent": UA_DESKTOP}) as reader:
        await eventually(lambda: reader.head(f"{ingest.url}/d/doomed"),
                         lambda r: r.status_code == 404)
        gone = await reader.get(f"{ingest.url}/d/doomed")
        assert gone.status_code == 404 and "unknown asset" in gone.json()["detail"]
        pixel = await reader.get(f"{ingest.url}/px.gif", params={"asset": "doomed"})
        assert pixel.status_code == 200
    summary = await eventually(lambda: stack.rejected_summary(),
                               lambda s: s["by_reason"].get("unknown_asset", 0) >= 2)
    assert summary["by_reason"]["unknown_asset"] >= 2
    assert await fetchval(stack.settings, "SELECT count(*) FROM events WHERE asset_id = "
                                          "'doomed' AND type <> 'rating'") == 0

    # The aggregator scores it no more. A new aggregator's first batch rescores the whole
    # catalog, and the deleted asset gets no new state (an open board would see it back).
    await stack.stop(aggregator)
    await stack.aggregator()
    state = "SELECT revision FROM asset_score_state WHERE asset_id = $1"
    doomed_revision = await fetchval(stack.settings, state, "doomed")
    kept_revision = await fetchval(stack.settings, state, "kept")
    async with stack.client_for(raters[2]) as rater:
        assert (await rater.put("/v1/assets/kept/rating", json={"stars": 5})).status_code == 200
    await eventually(lambda: fetchval(stack.settings, state, "kept"),
                     lambda revision: revision > kept_revision)
    assert await fetchval(stack.settings, state, "doomed") == doomed_revision
