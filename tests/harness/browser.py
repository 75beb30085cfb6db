"""What both browser test modules need: Debian's Chromium, its flags, and the skip rule."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "DESKTOP_USER_AGENT", "record_beacons",
           "skip_module_without_chromium"]

CHROMIUM = Path("/usr/bin/chromium")
#: The tests play a person's browser. Headless Chromium says "HeadlessChrome" in its
#: User-Agent, which the bot rules rightly keep out of the counts.
DESKTOP_USER_AGENT = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                      "Chrome/156.0.0.0 Safari/537.36")
# Without the background-networking flags Chromium tries to reach Google and is refused.
CHROMIUM_ARGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    f"--user-agent={DESKTOP_USER_AGENT}",
)


def skip_module_without_chromium() -> None:
    """Skip only on a developer machine without the browser; under CI a missing browser
    must fail loudly, never pass by skipping."""
    if not CHROMIUM.exists() and "CI" not in os.environ:
        pytest.skip("needs Debian's chromium (apt-get install chromium)", allow_module_level=True)


def record_beacons(context: Any, ingest_url: str) -> list[dict[str, object]]:
    """Every event the pages of a Playwright ``context`` post to ingest's /v1/events, in
    the order they were sent (filled in as the pages run)."""
    sent: list[dict[str, object]] = []

    def record(request: Any) -> None:
        if request.url == f"{ingest_url}/v1/events" and request.method == "POST":
            sent.extend(json.loads(request.post_data or "{}")["events"])

    context.on("request", record)
    return sent
