"""The demo's share links: two sales reps send assets to prospects, and some prospects open
them, read, and pass them on, all through the real edges, so My links, the asset page's
"How sales uses this content" and the reps' alerts have something to show.

Links are made through the ratings API as the rep (an API token of theirs); opens go
through ingest's ``/s/{id}``, each prospect a client with its own cookie jar (its ``gb_b``
browser cookie), and reading time through ``/v1/events`` as dwell slices whose view_id is
the open's event_id (``gb_visit`` in the redirect), as the page script sends them.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx

from services.ratings.identity.store import create_token, user_by_email
from shared.events import utcnow

__all__ = [
    "DEMO_LINKS",
    "UA_ANDROID",
    "UA_IPHONE",
    "UA_MAC",
    "UA_WINDOWS",
    "DemoLink",
    "Open",
    "load_demo_links",
]

#: Opens within this long of a link's creation count as mail scanners' fetches (ingest's
#: SHARE_SCANNER_SECONDS, 5 by default); the demo waits a little longer before any open.
SCANNER_SECONDS = 5.0
_MARGIN = 1.5

#: Browsers of the demo's people (demo.py's live hits use them too).
UA_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
             "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")
UA_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
              "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36")
UA_MAC = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.2 Safari/605.1.15")
UA_ANDROID = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
              "(KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36")


@dataclass(frozen=True)
class Open:
    """One browser opening the link: ``browser`` names its cookie jar (the recipient's
    first browser is the recipient; any other is a forward), then reads ``engaged_s``."""

    browser: str
    user_agent: str
    engaged_s: int


@dataclass(frozen=True)
class DemoLink:
    rep: str
    asset_id: str
    email: str
    name: str | None
    company: str | None
    opens: tuple[Open, ...] = ()


ANA = "ana.lopez@northwind.example.com"
BEN = "ben.carter@northwind.example.com"

#: No opens on the assets the demo's live hits check exactly (demo.LIVE_ASSET_IDS) nor on
#: the deck its test recomputes: links without opens add no views.
DEMO_LINKS: tuple[DemoLink, ...] = (
    DemoLink(ANA, "contoso-logistics-case-study", "dana.whitfield@hooli.example",
             "Dana Whitfield", "Hooli",
             (Open("dana-laptop", UA_MAC, 95), Open("dana-phone", UA_IPHONE, 40),
              Open("hooli-cfo", UA_WINDOWS, 180))),
    DemoLink(ANA, "tailspin-retail-case-study", "sam.reyes@wayne.example", "Sam Reyes",
             "Wayne Enterprises", (Open("sam", UA_WINDOWS, 210),)),
    DemoLink(ANA, "security-compliance-brief", "it-security@wayne.example", None,
             "Wayne Enterprises", (Open("wayne-sec", UA_WINDOWS, 35),)),
    DemoLink(ANA, "enterprise-pitch-deck", "priya.nair@stark.example", "Priya Nair",
             "Stark Industries"),
    DemoLink(BEN, "contoso-logistics-case-study", "lee.chen@globex.example", "Lee Chen",
             "Globex", (Open("lee", UA_ANDROID, 60),)),
    DemoLink(BEN, "fabrikam-finance-case-study", "maria.gomez@initech.example",
             "Maria Gomez", None, (Open("maria", UA_MAC, 150), Open("initech-ops", UA_WINDOWS, 45))),
    DemoLink(BEN, "pricing-sheet-2026", "jordan.kim@umbrella.example", "Jordan Kim",
             "Umbrella Corp"),
)


async def load_demo_links(pool: asyncpg.Pool, ratings_url: str, ingest_url: str,
                          refresh_seconds: float) -> str:
    """Create the demo links (once per database), wait until ingest knows them and they are
    past the scanner window, then open them. Returns what it did, for the console."""
    tokens = {}
    for rep in sorted({link.rep for link in DEMO_LINKS}):
        user = await user_by_email(pool, rep)
        if user is None:
            return f"share links skipped: no demo rep {rep}"
        tokens[rep] = await create_token(pool, user, "glassboard dev --demo links")
    async with httpx.AsyncClient(base_url=ratings_url, timeout=10) as ratings:
        mine = await ratings.get("/v1/share-links", headers=_auth(tokens[ANA]))
        if mine.status_code == 404:
            return "share links skipped: this ratings service has no share-links API"
        mine.raise_for_status()
        if _items(mine.json()):
            return "share links skipped: the demo reps already have links"
        made: list[tuple[DemoLink, str]] = []
        for link in DEMO_LINKS:
            body = {"asset_id": link.asset_id, "recipient_email": link.email,
                    **({"recipient_name": link.name} if link.name else {}),
                    **({"company": link.company} if link.company else {})}
            response = await ratings.post("/v1/share-links", json=body,
                                          headers=_auth(tokens[link.rep]))
            response.raise_for_status()
            made.append((link, str(response.json()["url"])))
    created_at = time.monotonic()
    # Ingest refreshes its cache of links every refresh_seconds; opens sooner than
    # SCANNER_SECONDS after creation would count as a mail scanner's fetch.
    await asyncio.sleep(max(SCANNER_SECONDS, refresh_seconds) + _MARGIN)
    opens = 0
    jars: dict[str, httpx.AsyncClient] = {}
    try:
        for link, url in made:
            for visit in link.opens:
                browser = jars.setdefault(visit.browser, httpx.AsyncClient(timeout=10))
                view_id = await _open(browser, url, visit.user_agent,
                                      deadline=created_at + refresh_seconds + 15)
                await _read(browser, ingest_url, link.asset_id, view_id, visit)
                opens += 1
    finally:
        for browser in jars.values():
            await browser.aclose()
    return (f"{len(made)} share links by {len(tokens)} reps, {opens} opens through "
            f"{ingest_url}/s/ (with forwards), reading time as dwell")


def _auth(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def _items(body: object) -> list[object]:
    if isinstance(body, dict):
        return list(body.get("links", []))
    return list(body) if isinstance(body, list) else []


async def _open(browser: httpx.AsyncClient, url: str, user_agent: str, deadline: float) -> str:
    """GET /s/{id} as this browser; the open's event_id from the redirect's gb_visit. A
    404 means ingest's cache has not seen the link yet: try again until ``deadline``."""
    while True:
        response = await browser.get(url, headers={"user-agent": user_agent},
                                     follow_redirects=False)
        if response.status_code in (302, 303):
            query = parse_qs(urlsplit(response.headers["location"]).query)
            if "gb_visit" not in query:
                raise RuntimeError(f"{url} was not counted as an open: "
                                   f"{response.headers['location']}")
            return query["gb_visit"][0]
        if response.status_code != 404 or time.monotonic() > deadline:
            raise RuntimeError(f"{url} answered {response.status_code}: {response.text[:200]}")
        await asyncio.sleep(0.5)


async def _read(browser: httpx.AsyncClient, ingest_url: str, asset_id: str, view_id: str,
                visit: Open) -> None:
    """The page script's dwell slices for this open: engaged time in 30 s slices, sent at
    once and dated now (never after the open, nor ahead of ingest's clock)."""
    events: list[dict[str, object]] = []
    left = visit.engaged_s * 1000
    while left > 0:
        engaged = min(left, 30_000)
        left -= engaged
        events.append({"type": "dwell", "asset_id": asset_id, "view_id": view_id,
                       "source": "beacon", "occurred_at": utcnow().isoformat(),
                       "engaged_ms": engaged, "wall_ms": engaged + 2_000})
    response = await browser.post(f"{ingest_url}/v1/events", json={"events": events},
                                  headers={"user-agent": visit.user_agent})
    response.raise_for_status()
