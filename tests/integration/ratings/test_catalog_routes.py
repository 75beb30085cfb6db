"""The minimal asset catalog: API, CSV import, and the edge's view of it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
from prometheus_client import REGISTRY

from services.ratings.catalog.csv_import import CsvRowError, parse_assets_csv
from support import UA_DESKTOP, Stack, eventually

ASSET = {"id": "pricing-sheet", "title": "Pricing sheet", "type": "product_sheet",
         "url": "https://example.com/pricing.pdf", "owner_email": "mia@example.com"}


async def test_assets_are_created_once_and_validated(stack: Stack) -> None:
    await stack.ratings()
    async with await stack.client() as client:
        r = await client.post("/v1/assets", json=ASSET)
        assert r.status_code == 201 and r.json()["id"] == "pricing-sheet"
        r = await client.post("/v1/assets", json=ASSET)
        assert r.status_code == 409 and "already exists" in r.json()["detail"]
        r = await client.post("/v1/assets", json={**ASSET, "id": "Bad Slug!", "type": "poster",
                                                  "url": "ftp://x", "owner_email": "nobody"})
        assert r.status_code == 422
        fields = {e["loc"][-1] for e in r.json()["detail"]}
        assert {"id", "type", "url", "owner_email"} <= fields
        assert (await client.get("/v1/assets/pricing-sheet")).json()["title"] == "Pricing sheet"
        assert (await client.get("/v1/assets/nope")).status_code == 404
        assert (await client.get("/v1/assets/nope/usage")).status_code == 404
        r = await client.get("/v1/assets/pricing-sheet/usage", params={"window": "3d"})
        assert r.status_code == 422


def test_csv_import_reports_every_bad_line_and_imports_nothing() -> None:
    text = ("id,title,type,url,owner_email\n"
            "good-one,Good,deck,https://example.com/a,a@example.com\n"
            "BAD,Bad,deck,https://example.com/b,b@example.com\n"
            "other,Other,poster,https://example.com/c,c@example.com\n")
    try:
        parse_assets_csv(text)
    except CsvRowError as exc:
        assert [e.split(":")[0] for e in exc.errors] == ["line 3", "line 4"]
    else:
        raise AssertionError("bad rows were accepted")


async def test_glassboard_assets_import_inserts_then_updates(stack: Stack, tmp_path: Path) -> None:
    csv_file = tmp_path / "assets.csv"
    csv_file.write_text("id,title,type,url,owner_email\n"
                        "case-acme,Acme case study,case_study,https://example.com/acme,a@example.com\n"
                        "launch-deck,Launch deck,deck,https://example.com/deck,b@example.com\n")
    env = {**os.environ, "DATABASE_URL": stack.settings.database_url}
    run = [sys.executable, "-m", "services.cli", "assets", "import", str(csv_file)]
    first = subprocess.run(run, env=env, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    assert "2 assets added, 0 updated" in first.stdout
    csv_file.write_text("id,title,type,url,owner_email\n"
                        "case-acme,Acme case study v2,case_study,https://example.com/acme,a@example.com\n")
    second = subprocess.run(run, env=env, capture_output=True, text=True, timeout=60)
    assert "0 assets added, 1 updated" in second.stdout
    await stack.ratings()
    async with await stack.client() as client:
        assert (await client.get("/v1/assets/case-acme")).json()["title"] == "Acme case study v2"
    csv_file.write_text("id,title\nx,y\n")
    bad = subprocess.run(run, env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "missing columns" in bad.stderr


async def test_pixel_always_answers_a_gif_and_counts_what_it_refused(stack: Stack) -> None:
    ingest = await stack.ingest()
    await stack.ratings()
    await stack.aggregator()
    # The metric registry is per process and other tests feed it too: compare increments.
    unknown_before = REGISTRY.get_sample_value(
        "glassboard_ingest_events_rejected_total", {"reason": "unknown_asset"}) or 0.0
    async with httpx.AsyncClient(base_url=ingest.url) as client:
        for params in ({"asset": "never-registered"}, {"asset": "x", "page": "zero"}, {}):
            r = await client.get("/px.gif", params=params, headers={"user-agent": UA_DESKTOP})
            assert r.status_code == 200 and r.headers["content-type"] == "image/gif"
            assert r.headers["cache-control"].startswith("no-store") and len(r.content) == 43
        # A download link for an unknown asset cannot redirect anywhere: a clear 404.
        r = await client.get("/d/never-registered")
        assert r.status_code == 404 and "unknown asset" in r.json()["detail"]
        metrics = (await client.get("/metrics")).text
        assert 'glassboard_ingest_events_rejected_total{reason="unknown_asset"}' in metrics
        unknown_after = REGISTRY.get_sample_value(
            "glassboard_ingest_events_rejected_total", {"reason": "unknown_asset"})
        assert unknown_after == unknown_before + 3

    result = await eventually(stack.rejected_summary, lambda s: s["total"] == 4)
    assert result["by_reason"] == {"unknown_asset": 3, "invalid": 1}


async def test_an_asset_registered_a_moment_ago_is_tracked_at_once(stack: Stack) -> None:
    ingest = await stack.ingest()
    await stack.ratings()
    await stack.aggregator()
    async with await stack.client("marketing") as client:
        assert (await client.post("/v1/assets", json=ASSET)).status_code == 201
    async with httpx.AsyncClient() as client:
        r = await client.post(f"{ingest.url}/v1/events",
                              json={"events": [{"type": "view", "asset_id": "pricing-sheet"}]})
        assert r.status_code == 202
    await eventually(lambda: stack.usage("pricing-sheet"), lambda u: u["views"] == 1)
