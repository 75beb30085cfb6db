"""``glassboard dev --demo``: a sample catalog, 120 days of history and a little live traffic,
then the reps' share links and their visits (demo_links.py).

History is replayed straight onto the events topic, because the HTTP batch API refuses
events older than 31 days; the live hits go through the real HTTP edge, so the pixel,
beacon, download redirect and bot/unknown-asset filtering all show up in the numbers.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg
import httpx

from devtools.settings import StackSettings
from services.ratings.catalog.store import upsert_assets
from services.ratings.identity.models import Role
from services.ratings.identity.store import add_user, create_token
from services.ratings.rating.models import RatingChange
from services.ratings.rating.store import apply_rating
from services.ratings.reads.aggregator import fetch_usage_rows
from shared.db import create_pool
from shared.events import EventEnvelope, Source, utcnow
from shared.kafka import make_broker, publish_keyed

from .demo_links import UA_ANDROID, UA_IPHONE, UA_MAC, UA_WINDOWS, load_demo_links
from .demo_ratings import DEMO_RATERS, generate_ratings
from .demo_traffic import DEMO_ASSETS, DEMO_SEED, HISTORY_DAYS, SITE_HOST, generate_history

__all__ = [
    "LIVE_ASSET_IDS",
    "LIVE_BEACON_ASSET",
    "LIVE_DWELL_MS",
    "LIVE_PIXEL_ASSET",
    "LIVE_PIXEL_HITS",
    "PixelHit",
    "UNKNOWN_ASSET_ID",
    "load_demo",
]

#: Events per publish call: enough for aiokafka to batch well, few enough pending acks.
CHUNK = 2_000
#: How long to wait for the aggregator to count the demo before giving up politely.
WAIT_SECONDS = 60.0
_BOT_HITS = 2

UA_IPAD = ("Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
           "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")
UA_GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@dataclass(frozen=True)
class PixelHit:
    """One live email-open or page pixel: who (None: an anonymous hash), on what, from where."""

    viewer: str | None
    user_agent: str
    referer: str | None


LIVE_PIXEL_ASSET = "pricing-sheet-2026"
#: Distinct viewers and User-Agents, so no hit is another's double-click.
LIVE_PIXEL_HITS: tuple[PixelHit, ...] = (
    PixelHit("prospect:hooli-7", UA_IPHONE, "https://mail.google.com/"),
    PixelHit("prospect:wayne-31", UA_ANDROID, "https://outlook.office.com/"),
    PixelHit("prospect:stark-12", UA_IPAD, None),
    PixelHit("rep:ana.lopez", UA_WINDOWS, "https://outlook.office.com/"),
    PixelHit(None, UA_MAC, "https://linkedin.com/"),
)
LIVE_BEACON_ASSET = "platform-overview-2026"
#: (engaged_ms, wall_ms) of the live beacon view's two dwell slices.
LIVE_DWELL_MS: tuple[tuple[int, int], ...] = ((34_000, 40_000), (41_000, 55_000))
LIVE_DOWNLOAD_ASSET = "roi-calculator"
UNKNOWN_ASSET_ID = "spring-promo-2019"
LIVE_ASSET_IDS = frozenset({LIVE_PIXEL_ASSET, LIVE_BEACON_ASSET, LIVE_DOWNLOAD_ASSET})


async def load_demo(
    settings: StackSettings, ingest_url: str, *, now: datetime | None = None, seed: int = DEMO_SEED
) -> None:
    """Load the sample catalog, replay its history (once per database) and send live hits.

    ``now`` (where history ends) and ``seed`` exist for tests, which recompute the same
    history to check totals; the live hits always use the real clock.
    """
    started = time.perf_counter()
    now = now or utcnow()
    pool = await create_pool(settings.database_url, max_size=2)
    try:
        token = await _demo_users(pool)
        # Owners are users before their assets: an import never creates an account.
        for owner in sorted({a.asset.owner_email for a in DEMO_ASSETS}):
            await add_user(pool, owner, Role.MARKETING)
        inserted, updated = await upsert_assets(pool, [a.asset for a in DEMO_ASSETS])
        catalog_ready_at = time.monotonic() + settings.catalog_refresh_seconds + 1.0
        replay = not await _has_usage(pool, [a.id for a in DEMO_ASSETS])
        if replay:
            rated = await _demo_ratings(pool, now)
            print(f"demo: {rated} ratings by {len(DEMO_RATERS)} sales reps over 120 days")
    finally:
        await pool.close()
    print(f"demo: {len(DEMO_ASSETS)} sample assets ({inserted} new, {updated} updated); "
          "the same catalog is in docs/demo-assets.csv")

    history_views = 0
    if replay:
        replay_started = time.perf_counter()
        events = generate_history(now, seed=seed)
        await _replay(settings, events)
        history_views = sum(e.type == "view" for e in events)
        print(f"demo: replayed {len(events):,} events ({HISTORY_DAYS} days of history) onto "
              f"{settings.topics.events.name!r} in {time.perf_counter() - replay_started:.1f} s")
    else:
        print("demo: history skipped, these assets already have usage "
              "(delete .glassboard/ for a fresh start)")

    ratings_url = f"http://{settings.ratings_host}:{settings.ratings_port}"
    async with httpx.AsyncClient(base_url=ratings_url, timeout=5,
                                 headers={"authorization": f"Bearer {token}"}) as ratings:
        rejected_before = await _rejected_total(ratings)
        # Ingest caches the catalog; let one refresh pass so it knows the new assets.
        await asyncio.sleep(max(0.0, catalog_ready_at - time.monotonic()))
        await _live_traffic(ingest_url)
        print(f"demo: live traffic sent through {ingest_url}: {len(LIVE_PIXEL_HITS)} pixel "
              f"views, 1 beacon view with {len(LIVE_DWELL_MS)} dwell slices, 1 download, "
              f"{_BOT_HITS} Googlebot hits, 1 unknown asset")
        counted = await _wait_until_counted(
            ratings, history_views, rejected_before + _BOT_HITS + 1, WAIT_SECONDS
        )
    pool = await create_pool(settings.database_url, max_size=2)
    try:
        print("demo: " + await load_demo_links(pool, ratings_url, ingest_url,
                                               settings.catalog_refresh_seconds))
    except (httpx.HTTPError, RuntimeError) as error:  # the rest of the demo still stands
        print(f"demo: share links not loaded: {error}")
    finally:
        await pool.close()
    state = "counted" if counted else f"still counting after {WAIT_SECONDS:.0f} s"
    print(f"demo: done in {time.perf_counter() - started:.1f} s ({state})")


#: Demo people: one per role, so each view of the app can be tried. Sign in as any of them
#: with a magic link (printed to the console under glassboard dev).
DEMO_USERS: tuple[tuple[str, str, Role], ...] = (
    ("admin@northwind.example.com", "Avery Admin", Role.ADMIN),
    ("ana.lopez@northwind.example.com", "Ana Lopez", Role.SALES),
    ("ben.carter@northwind.example.com", "Ben Carter", Role.SALES),
    ("erin.exec@northwind.example.com", "Erin Okafor", Role.EXECUTIVE),
)


async def _demo_users(pool: asyncpg.Pool) -> str:
    """Create the demo people; returns an admin API token for the demo's own reads."""
    users = [await add_user(pool, email, role, name) for email, name, role in DEMO_USERS]
    print("demo: people to sign in as: " + ", ".join(f"{u.email} ({u.role.value})" for u in users))
    return await create_token(pool, users[0], "glassboard dev --demo")


async def _demo_ratings(pool: asyncpg.Pool, now: datetime) -> int:
    """Ratings through the ratings service's own store, so they reach the aggregator the
    way every rating does: through the outbox."""
    raters = {email: await add_user(pool, email, Role.SALES, name) for email, name in DEMO_RATERS}
    ratings = generate_ratings(now)
    async with pool.acquire() as conn, conn.transaction():
        for rating in ratings:
            await apply_rating(conn, RatingChange(
                asset_id=rating.asset_id, user_id=raters[rating.rater_email].id,
                stars=rating.stars, at=rating.rated_at, source=Source.API,
                comment=rating.comment,
            ))
    return len(ratings)


async def _rejected_total(ratings: httpx.AsyncClient) -> int:
    try:
        response = await ratings.get("/v1/rejected-events/summary")
        response.raise_for_status()
        return int(response.json()["total"])
    except httpx.HTTPError:
        return 0  # ratings not up (yet): the wait below then just times out politely


async def _views_total(ratings: httpx.AsyncClient) -> int:
    total = 0
    for asset in DEMO_ASSETS:
        response = await ratings.get(f"/v1/assets/{asset.id}/usage", params={"window": "all"})
        response.raise_for_status()
        total += int(response.json()["views"])
    return total


async def _wait_until_counted(
    ratings: httpx.AsyncClient, views: int, rejected: int, timeout: float
) -> bool:
    """Wait until the ratings API shows the replayed views and the live rejections, so
    "Glassboard is running" means the numbers are there (consumer groups take seconds to
    join). False on timeout: the demo is still usable, just not complete yet."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if await _rejected_total(ratings) >= rejected and await _views_total(ratings) >= views:
                return True
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.5)


async def _has_usage(pool: asyncpg.Pool, asset_ids: list[str]) -> bool:
    """Whether an earlier --demo already replayed history: replaying again would double it."""
    for asset_id in asset_ids:
        counters, _, _ = await fetch_usage_rows(pool, asset_id, None)
        if any(row["views"] or row["downloads"] for row in counters):
            return True
    return False


async def _replay(settings: StackSettings, events: list[EventEnvelope]) -> None:
    """Publish history keyed by asset_id, as ingest would have: per-asset order is kept."""
    broker = make_broker(settings.kafka_bootstrap_servers, linger_ms=5)
    await broker.start()
    try:
        topic = settings.topics.events.name
        for i in range(0, len(events), CHUNK):
            chunk = events[i:i + CHUNK]
            await publish_keyed(
                broker, topic, [(e.asset_id, e.model_dump_json().encode()) for e in chunk]
            )
    finally:
        await broker.stop()


async def _live_traffic(ingest_url: str) -> None:
    """A few real hits through the edge, on the real clock (ingest refuses event times more
    than 5 minutes ahead); any unexpected answer fails the demo loudly."""
    async with httpx.AsyncClient(base_url=ingest_url, timeout=10) as client:
        for hit in LIVE_PIXEL_HITS:
            params = {"asset": LIVE_PIXEL_ASSET, **({"viewer": hit.viewer} if hit.viewer else {})}
            headers = {"user-agent": hit.user_agent}
            if hit.referer:
                headers["referer"] = hit.referer
            (await client.get("/px.gif", params=params, headers=headers)).raise_for_status()

        view_id = uuid.uuid4()
        view_at = utcnow() - timedelta(minutes=2)
        events: list[dict[str, object]] = [{
            "type": "view", "asset_id": LIVE_BEACON_ASSET, "event_id": str(view_id),
            "source": "beacon",
            "occurred_at": view_at.isoformat(), "referrer": "https://linkedin.com/feed/",
        }]
        at = view_at
        for engaged, wall in LIVE_DWELL_MS:
            at += timedelta(milliseconds=wall)
            events.append({
                "type": "dwell", "asset_id": LIVE_BEACON_ASSET, "view_id": str(view_id),
                "source": "beacon", "occurred_at": at.isoformat(),
                "engaged_ms": engaged, "wall_ms": wall,
            })
        response = await client.post("/v1/events", json={"events": events},
                                     headers={"user-agent": UA_WINDOWS})
        response.raise_for_status()

        response = await client.get(
            f"/d/{LIVE_DOWNLOAD_ASSET}", params={"viewer": "prospect:globex-5"},
            headers={"user-agent": UA_WINDOWS, "referer": f"https://{SITE_HOST}/resources"},
            follow_redirects=False,
        )
        if response.status_code != 302:
            raise RuntimeError(f"download answered {response.status_code}: {response.text}")

        for _ in range(_BOT_HITS):
            (await client.get("/px.gif", params={"asset": LIVE_BEACON_ASSET},
                              headers={"user-agent": UA_GOOGLEBOT})).raise_for_status()
        (await client.get("/px.gif", params={"asset": UNKNOWN_ASSET_ID},
                          headers={"user-agent": UA_IPHONE})).raise_for_status()
