"""The asset page's read APIs end to end: pixel and beacon hits through ingest, ratings
through the API, the aggregator in between; exact figures out, and the 401/404/422s."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

from harness.stack import Stack, eventually
from harness.user_agents import UA_DESKTOP, UA_GOOGLEBOT, UA_IPHONE

DECK, SHEET = "pricing-deck", "quiet-sheet"
OWNER = "olga.owner@example.com"


async def _catalog(stack: Stack) -> None:
    await stack.user(OWNER, "marketing", "Olga Owner")
    async with await stack.client("admin") as admin:
        for asset_id, asset_type in ((DECK, "deck"), (SHEET, "product_sheet")):
            r = await admin.post("/v1/assets", json={
                "id": asset_id, "title": asset_id.replace("-", " ").title(), "type": asset_type,
                "url": f"https://example.com/{asset_id}.pdf", "owner_email": OWNER,
            })
            assert r.status_code == 201, r.text


async def _events(client: httpx.AsyncClient, *events: dict[str, Any], ua: str = UA_DESKTOP) -> None:
    r = await client.post("/v1/events", json={"events": list(events)}, headers={"user-agent": ua})
    assert r.status_code == 202, r.text


async def _traffic(ingest_url: str, key: dict[str, str]) -> None:
    """Today: five counted views (one more is a double-click), dwell on page 2 in two
    slices (one names no page: it takes its view's), two downloads. Three days ago: a view
    of page 3 with dwell. Ten days ago: a view of page 1."""
    now = datetime.now(timezone.utc)
    beacon_view, old_view = uuid.uuid4(), uuid.uuid4()
    async with httpx.AsyncClient(base_url=ingest_url, headers=key) as client:
        for viewer, page, ua in (("p1", 1, UA_DESKTOP), ("p2", 1, UA_IPHONE),
                                 ("p1", 2, UA_DESKTOP), ("p1", 2, UA_DESKTOP)):
            r = await client.get("/px.gif", params={"asset": DECK, "viewer": viewer, "page": page},
                                 headers={"user-agent": ua})
            assert r.status_code == 200
        await client.get("/px.gif", params={"asset": DECK}, headers={"user-agent": UA_DESKTOP})
        await _events(
            client,
            {"type": "view", "asset_id": DECK, "event_id": str(beacon_view), "viewer_id": "p3",
             "page": 2, "source": "beacon"},
            {"type": "dwell", "asset_id": DECK, "view_id": str(beacon_view), "page": 2,
             "engaged_ms": 12000, "wall_ms": 13000, "source": "beacon"},
            {"type": "dwell", "asset_id": DECK, "view_id": str(beacon_view),
             "engaged_ms": 3000, "wall_ms": 4000, "source": "beacon"},
        )
        for viewer in ("p1", "p2"):
            assert (await client.get(f"/d/{DECK}", params={"viewer": viewer},
                                     headers={"user-agent": UA_DESKTOP})).status_code == 302
        three_days_ago = (now - timedelta(days=3)).isoformat()
        await _events(
            client,
            {"type": "view", "asset_id": DECK, "event_id": str(old_view), "viewer_id": "p9",
             "page": 3, "occurred_at": three_days_ago},
            {"type": "dwell", "asset_id": DECK, "view_id": str(old_view), "page": 3,
             "engaged_ms": 8000, "occurred_at": three_days_ago},
            {"type": "view", "asset_id": DECK, "viewer_id": "p9", "page": 1,
             "occurred_at": (now - timedelta(days=10)).isoformat()},
        )


async def test_daily_usage_pages_and_recent_ratings_give_exact_figures(stack: Stack) -> None:
    await stack.ratings()
    await _catalog(stack)
    key = await stack.ingest_key()  # the batch below names its viewers: a server integration
    ingest = await stack.ingest()
    await stack.aggregator()
    await _traffic(ingest.url, key)
    await eventually(lambda: stack.usage(DECK, "all"),
                     lambda u: u["views"] == 7 and u["downloads"] == 2
                     and u["dwell"]["engaged_ms_total"] == 23000)
    today = datetime.now(timezone.utc).date()

    async with await stack.client("sales") as client:
        # Usage per day: 120 days, oldest first, quiet days as zeros.
        r = await client.get(f"/v1/assets/{DECK}/usage/daily")
        assert r.status_code == 200, r.text
        body = r.json()
        daily = body["daily"]
        assert len(daily) == 120
        assert body["since"] == daily[0]["day"] == (today - timedelta(days=119)).isoformat()
        assert body["until"] == daily[-1]["day"] == today.isoformat()
        busy = {d["day"]: {k: v for k, v in d.items() if k != "day"}
                for d in daily if any(d[k] for k in d if k != "day")}
        assert busy == {
            # p1, p2, p3 and the anonymous reader; p1's double-click counts once.
            today.isoformat(): {"views": 5, "unique_viewers": 4, "downloads": 2,
                                "engaged_ms": 15000},
            (today - timedelta(days=3)).isoformat(): {"views": 1, "unique_viewers": 1,
                                                      "downloads": 0, "engaged_ms": 8000},
            (today - timedelta(days=10)).isoformat(): {"views": 1, "unique_viewers": 1,
                                                       "downloads": 0, "engaged_ms": 0},
        }
        r = await client.get(f"/v1/assets/{DECK}/usage/daily", params={"days": 1})
        assert r.json()["daily"] == [{"day": today.isoformat(), "views": 5, "unique_viewers": 4,
                                      "downloads": 2, "engaged_ms": 15000}]
        quiet = (await client.get(f"/v1/assets/{SHEET}/usage/daily", params={"days": 7})).json()
        assert [d["views"] for d in quiet["daily"]] == [0] * 7

        # Dwell per page: counted views and all dwell, per page, inside the window.
        r = await client.get(f"/v1/assets/{DECK}/pages")
        assert r.status_code == 200, r.text
        pages = r.json()
        assert pages["window"] == "90d" and pages["numbered_pages"] == 3
        assert pages["since"] == (today - timedelta(days=89)).isoformat()
        assert pages["pages"] == [
            {"page": 1, "views": 3, "engaged_ms": 0, "engaged_ms_per_view": 0.0},
            {"page": 2, "views": 2, "engaged_ms": 15000, "engaged_ms_per_view": 7500.0},
            {"page": 3, "views": 1, "engaged_ms": 8000, "engaged_ms_per_view": 8000.0},
            {"page": None, "views": 1, "engaged_ms": 0, "engaged_ms_per_view": 0.0},
        ]
        week = (await client.get(f"/v1/assets/{DECK}/pages", params={"window": "7d"})).json()
        assert [(p["page"], p["views"]) for p in week["pages"]] == [(1, 2), (2, 2), (3, 1),
                                                                     (None, 1)]
        # The pages add up to the usage API's figures for the same window.
        usage = await stack.usage(DECK, "90d")
        assert sum(p["views"] for p in pages["pages"]) == usage["views"] == 7
        assert sum(p["engaged_ms"] for p in pages["pages"]) == usage["dwell"]["engaged_ms_total"]
        single = (await client.get(f"/v1/assets/{SHEET}/pages")).json()
        assert single["pages"] == [] and single["numbered_pages"] == 0

    # Ratings through the API: a sales rep rates, an executive rates, the rep rates again.
    _, rep = await stack.user("rep@example.com", "sales", "Riley Rep")
    _, exec_ = await stack.user("erin@example.com", "executive", "Erin Exec")
    base = f"http://127.0.0.1:{stack.settings.ratings_port}"
    for token, stars, comment in ((rep, 4, "Clear pricing"), (exec_, 2, None),
                                  (rep, 5, "Even better with the new table")):
        async with httpx.AsyncClient(base_url=base,
                                     headers={"authorization": f"Bearer {token}"}) as rater:
            r = await rater.put(f"/v1/assets/{DECK}/rating",
                                json={"stars": stars, "comment": comment})
            assert r.status_code == 200, r.text

    async with await stack.client("sales") as client:
        r = await client.get(f"/v1/assets/{DECK}/ratings/recent")
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["count"] == 2
        assert [(x["stars"], x["comment"], x["rater_role"]) for x in body["ratings"]] == [
            (5, "Even better with the new table", "sales"), (2, None, "executive")]
        assert all(set(x) == {"stars", "comment", "rated_at", "rater_role"}
                   for x in body["ratings"])
        assert "@" not in r.text and "Riley" not in r.text and "Erin" not in r.text  # candour
        first, second = (datetime.fromisoformat(x["rated_at"]) for x in body["ratings"])
        assert first > second and first.tzinfo is not None
        one = (await client.get(f"/v1/assets/{DECK}/ratings/recent",
                                params={"limit": 1})).json()
        assert one["count"] == 2 and [x["stars"] for x in one["ratings"]] == [5]
        none = (await client.get(f"/v1/assets/{SHEET}/ratings/recent")).json()
        assert none == {"asset_id": SHEET, "count": 0, "ratings": []}


async def test_unknown_assets_bad_parameters_and_signed_out_callers_are_refused(
    stack: Stack,
) -> None:
    ratings = await stack.ratings()
    await _catalog(stack)
    paths = ["/v1/assets/{}/usage/daily", "/v1/assets/{}/pages", "/v1/assets/{}/ratings/recent",
             "/v1/assets/{}/filtered"]
    async with httpx.AsyncClient(base_url=ratings.url) as anonymous:
        for path in paths:
            r = await anonymous.get(path.format(DECK))
            assert r.status_code == 401, (path, r.text)
    async with await stack.client("sales") as client:
        for path in paths:
            r = await client.get(path.format("no-such-asset"))
            assert r.status_code == 404, (path, r.text)
            assert r.json()["detail"] == "unknown asset 'no-such-asset'"
        for path, params in (
            ("/v1/assets/{}/usage/daily", {"days": 0}),
            ("/v1/assets/{}/usage/daily", {"days": 121}),
            ("/v1/assets/{}/usage/daily", {"days": "many"}),
            ("/v1/assets/{}/pages", {"window": "365d"}),
            ("/v1/assets/{}/ratings/recent", {"limit": 0}),
            ("/v1/assets/{}/ratings/recent", {"limit": 101}),
        ):
            r = await client.get(path.format(DECK), params=params)
            assert r.status_code == 422, (path, params, r.text)
        for window in ("7d", "30d", "90d", "120d", "all"):
            r = await client.get(f"/v1/assets/{DECK}/pages", params={"window": window})
            assert r.status_code == 200 and r.json()["window"] == window


async def test_filtered_hits_are_readable_per_asset_and_per_reason(stack: Stack) -> None:
    """Googlebot's pixel hits on the deck and a hit on an asset nobody has: refused at the
    edge, kept with their reason, counted per asset and per reason, never as views."""
    await stack.ratings()
    await _catalog(stack)
    ingest = await stack.ingest()
    await stack.aggregator()
    async with httpx.AsyncClient(base_url=ingest.url) as client:
        for asset, ua in ((DECK, UA_GOOGLEBOT), (DECK, UA_GOOGLEBOT), (DECK, UA_GOOGLEBOT),
                          (DECK, UA_DESKTOP), ("no-such-deck", UA_DESKTOP)):
            r = await client.get("/px.gif", params={"asset": asset}, headers={"user-agent": ua})
            assert r.status_code == 200
    everything = await eventually(stack.rejected_summary, lambda s: s["total"] == 4)
    assert everything["by_reason"] == {"bot": 3, "unknown_asset": 1}

    async with await stack.client("sales") as client:
        r = await client.get(f"/v1/assets/{DECK}/filtered")
        assert r.status_code == 200, r.text
        today = datetime.now(timezone.utc).date()
        assert r.json() == {
            "asset_id": DECK, "window": "120d",
            "since": (today - timedelta(days=119)).isoformat(),
            "total": 3, "by_reason": {"bot": 3}, "filtered": 3, "machine_opens": 0,
            "reasons": [{"reason": "bot", "count": 3, "label": "bots"}],
        }
        quiet = (await client.get(f"/v1/assets/{SHEET}/filtered", params={"window": "7d"})).json()
        assert (quiet["total"], quiet["reasons"]) == (0, [])

        one = (await client.get("/v1/rejected-events/summary",
                                params={"asset": DECK, "window": "30d"})).json()
        assert (one["asset_id"], one["total"], one["by_reason"]) == (DECK, 3, {"bot": 3})
        unknown = (await client.get("/v1/rejected-events/summary",
                                    params={"asset": "no-such-deck"})).json()
        assert unknown["reasons"] == [
            {"reason": "unknown_asset", "count": 1, "label": "unknown asset"}]
    # The one real view counted; the bots did not.
    assert (await stack.usage(DECK))["views"] == 1
