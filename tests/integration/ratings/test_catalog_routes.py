"""The asset catalog's API and its CSV import command (``glassboard assets import``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from harness.stack import Stack

ASSET = {"id": "pricing-sheet", "title": "Pricing sheet", "type": "product_sheet",
         "url": "https://example.com/pricing.pdf", "owner_email": "mia@example.com"}


async def test_assets_are_created_once_and_validated(stack: Stack) -> None:
    await stack.ratings()
    await stack.user("mia@example.com", "marketing")  # owners are users first (issue 12)
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


async def test_glassboard_assets_import_inserts_then_updates(stack: Stack, tmp_path: Path) -> None:
    for owner in ("a@example.com", "b@example.com"):  # owners are users first (issue 12)
        await stack.user(owner, "marketing")
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
