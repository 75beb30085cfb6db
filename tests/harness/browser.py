"""What the browser test modules share: Debian's Chromium, its flags, the skip rule, the
beacons a page sends, and signing a page in."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from harness.paths import SCREENSHOTS
from harness.stack import eventually

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "DESKTOP_USER_AGENT", "record_beacons",
           "save_screenshot", "sign_in_page", "skip_module_without_chromium"]

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


async def sign_in_page(page: Any, server: Any, email: str, path: str) -> None:
    """Open ``path`` on the ratings app signed out, ask for a link on /login, take it from
    the app's mailer and press the link page's button, as a person does; back on ``path``."""
    await page.goto(f"{server.url}{path}")
    await page.get_by_label("Work email").fill(email)
    mailer = server.app.state.mailer
    sent_before = len(mailer.sent)
    await page.get_by_role("button", name="Email me a sign-in link").click()

    async def mails() -> list[tuple[str, str, str]]:
        return [m for m in mailer.sent[sent_before:] if m[0] == email]

    [(_, _, body)] = await eventually(mails, lambda m: len(m) > 0)
    link = re.search(r"https?://\S+/auth/magic\?\S+", body)
    assert link, body
    await page.goto(link.group(0))
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await page.wait_for_url(f"{server.url}{path}")


def save_screenshot(shot: bytes, tmp_path: Path, name: str) -> None:
    """Keep a screenshot in the test's tmp dir, and in docs/screenshots/ when
    ``GLASSBOARD_SAVE_SCREENSHOTS`` is set (how the docs' pictures are refreshed)."""
    (tmp_path / name).write_bytes(shot)
    if os.environ.get("GLASSBOARD_SAVE_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / name).write_bytes(shot)
