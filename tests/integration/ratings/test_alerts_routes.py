"""The alert inbox API in the ratings app: my alerts, mark read, preferences and rule
overrides. Alerts are inserted as the notifier writes them."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from devtools.settings import StackSettings
from harness.stack import Stack

OWNER = "marketing-tester@example.com"  # the user behind stack.client("marketing")


async def add_alert(settings: StackSettings, asset_id: str, owner: str, rule: str = "score_drop",
                    state: str = "sent") -> int:
    conn = await asyncpg.connect(settings.database_url)
    try:
        alert_id = await conn.fetchval(
            "INSERT INTO alerts (asset_id, rule, episode, owner_email, title, summary, details) "
            "VALUES ($1, $2, 1, $3, $4, $5, $6::jsonb) RETURNING id",
            asset_id, rule, owner, asset_id.title(), f"The score of {asset_id} fell.",
            json.dumps({"fall": 12}))
        delivery = await conn.fetchval(
            "INSERT INTO alert_deliveries (recipient_email, channel, target, kind, state, "
            "attempts, last_error) VALUES ($1, 'email', $1, 'immediate', $2, 1, $3) RETURNING id",
            owner, state, None if state == "sent" else "SMTP 127.0.0.1:1: refused")
        await conn.execute("INSERT INTO alert_delivery_items VALUES ($1, $2)", delivery, alert_id)
        return int(alert_id)
    finally:
        await conn.close()


async def test_owners_see_and_mark_their_alerts_and_admins_see_everyones(stack: Stack) -> None:
    await stack.ratings()
    async with await stack.client("marketing") as owner, await stack.client("admin") as admin, \
            await stack.client("sales") as sales:
        await owner.get("/v1/me")  # creates the user
        mine = await add_alert(stack.settings, "pricing-sheet", OWNER.upper())
        second = await add_alert(stack.settings, "case-study", OWNER, "rating_below", "pending")
        theirs = await add_alert(stack.settings, "blog-post", "someone@example.com")

        listed = (await owner.get("/v1/alerts")).json()
        assert [a["id"] for a in listed["alerts"]] == [second, mine]
        assert listed["unread"] == 2
        first = listed["alerts"][1]
        assert first["asset_url"] == "/assets/pricing-sheet" and first["rule_label"] == "Score drop"
        assert first["deliveries"][0]["channel"] == "email"
        assert first["deliveries"][0]["state"] == "sent" and first["details"] == {"fall": 12}
        assert listed["alerts"][0]["deliveries"][0]["last_error"] == "SMTP 127.0.0.1:1: refused"

        assert (await owner.post(f"/v1/alerts/{mine}/read")).status_code == 204
        assert (await owner.post(f"/v1/alerts/{mine}/read")).status_code == 204  # idempotent
        unread = (await owner.get("/v1/alerts", params={"unread": "true"})).json()
        assert [a["id"] for a in unread["alerts"]] == [second] and unread["unread"] == 1
        assert (await owner.post(f"/v1/alerts/{theirs}/read")).status_code == 403
        assert (await owner.post("/v1/alerts/999999/read")).status_code == 404
        assert (await owner.post("/v1/alerts/read-all")).json() == {"marked": 1}

        refused = await sales.get("/v1/alerts", params={"all": "true"})
        assert refused.status_code == 403 and "only admins" in refused.json()["detail"]
        everyone = (await admin.get("/v1/alerts", params={"all": "true"})).json()
        assert {a["id"] for a in everyone["alerts"]} == {mine, second, theirs}
        assert (await admin.post(f"/v1/alerts/{theirs}/read")).status_code == 403
        paged = (await admin.get("/v1/alerts", params={"all": "true", "limit": 2})).json()
        assert len(paged["alerts"]) == 2 and paged["next_before"] == second


async def test_preferences_refuse_webhook_urls_that_cannot_work_with_a_clear_422(
    stack: Stack,
) -> None:
    await stack.ratings()
    async with await stack.client("marketing") as owner:
        assert (await owner.get("/v1/me/alert-preferences")).json() == {
            "email": True, "webhook_url": None, "mode": "immediate", "digest_hour_utc": 8}
        for url, message in [
            ("ftp://hooks.example.com/x", "must start with https:// or http://"),
            ("https://bot:pw@hooks.example.com/x", "must not contain a user name or password"),
            ("not a url", "must not contain spaces"),
            ("https://", "has no host name"),
        ]:
            response = await owner.put("/v1/me/alert-preferences",
                                       json={"email": True, "webhook_url": url})
            assert response.status_code == 422, url
            [error] = response.json()["detail"]
            assert error["loc"] == ["body", "webhook_url"] and message in error["msg"], error
        bad_mode = await owner.put("/v1/me/alert-preferences", json={"mode": "hourly"})
        assert bad_mode.status_code == 422
        saved = await owner.put("/v1/me/alert-preferences", json={
            "email": False, "webhook_url": " https://hooks.slack.com/services/T0/B0/x ",
            "mode": "digest"})
        assert saved.status_code == 200
        # A new URL's own signing secret comes in this answer only (test_webhook_security).
        answer = saved.json()
        assert answer.pop("webhook_secret").startswith("gbwh_")
        assert answer == {"email": False, "mode": "digest", "digest_hour_utc": 8,
                          "webhook_url": "https://hooks.slack.com/services/T0/B0/x"}
        cleared = await owner.put("/v1/me/alert-preferences", json={"webhook_url": ""})
        assert cleared.json()["webhook_url"] is None


async def test_owners_override_rule_levels_within_bounds(stack: Stack) -> None:
    await stack.ratings()
    async with await stack.client("marketing") as owner:
        rules = (await owner.get("/v1/me/alert-rules")).json()["rules"]
        assert set(rules) == {"rating_below", "score_drop", "low_rating_comment",
                              "engagement_collapse"}
        assert rules["rating_below"]["defaults"]["threshold"] == 3.0
        changed = await owner.put("/v1/me/alert-rules/rating_below", json={"threshold": 3.5})
        assert changed.status_code == 200
        body: dict[str, Any] = changed.json()
        assert body["overrides"] == {"threshold": 3.5}
        assert body["effective"]["threshold"] == 3.5 and body["effective"]["min_ratings"] == 5
        off = await owner.put("/v1/me/alert-rules/rating_below", json={"enabled": False})
        assert off.json()["overrides"] == {"threshold": 3.5, "enabled": False}

        too_high = await owner.put("/v1/me/alert-rules/rating_below", json={"threshold": 9})
        assert too_high.status_code == 422
        assert too_high.json()["detail"][0]["loc"] == ["body", "threshold"]
        unknown_field = await owner.put("/v1/me/alert-rules/score_drop", json={"pointz": 3})
        assert unknown_field.status_code == 422
        assert (await owner.put("/v1/me/alert-rules/nope", json={})).status_code == 404

        assert (await owner.delete("/v1/me/alert-rules/rating_below")).status_code == 204
        rules = (await owner.get("/v1/me/alert-rules")).json()["rules"]
        assert rules["rating_below"]["overrides"] == {}
        assert rules["rating_below"]["effective"]["threshold"] == 3.0
