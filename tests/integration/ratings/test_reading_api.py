"""The asset page's reading and video analytics on the real ratings app, PostgreSQL and
broker: per page drop-off, readers, time and re-reads (GET /v1/assets/{id}/reading), per
PDF version; the video's plays, quartiles and retention (/video); and how each recipient
of a share link read it (/reading/recipients), only for who may see the link.

One case goes through the real pipeline (views and dwell slices posted to ingest, applied
by the aggregator); the others write the aggregator's rows (events, video_plays,
link_visits) and the files' rows (asset_files) directly, as setup, for exact times."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

from harness.db import fetch
from harness.stack import Stack, eventually
from harness.user_agents import UA_DESKTOP

DECK, VIDEO, SILENT = "reading-deck", "demo-video", "silent-video"
OWNER = "olga.owner@example.com"
NOW = datetime.now(timezone.utc).replace(microsecond=0)


async def _assets(stack: Stack, *asset_ids: str) -> None:
    await stack.user(OWNER, "marketing", "Olga Owner")
    for asset_id in asset_ids:
        await stack.add_asset(asset_id, owner_email=OWNER)


async def _pdf_version(stack: Stack, asset_id: str, version: int, pages: int,
                       uploaded_at: datetime) -> None:
    """A version as the files context stores it (its row; no bytes are read here)."""
    sha = hashlib.sha256(f"{asset_id}{version}".encode()).hexdigest()
    await fetch(stack.settings,
                "INSERT INTO asset_files (asset_id, version, storage_key, content_type, bytes, "
                "pages, sha256, uploaded_at) VALUES ($1, $2, $3, 'application/pdf', 1000, $4, "
                "$5, $6)", asset_id, version, f"assets/{asset_id}/{sha}.pdf", pages, sha,
                uploaded_at)


async def _slices(stack: Stack, asset_id: str, view_id: uuid.UUID,
                  *slices: tuple[datetime, int, int] | tuple[datetime, int, int, datetime]
                  ) -> None:
    """Dwell slices of one reading as the aggregator stores them: (occurred_at, page,
    engaged ms[, received_at])."""
    received = [s[3] if len(s) == 4 else s[0] for s in slices]
    await fetch(stack.settings,
                "INSERT INTO events (event_id, type, asset_id, occurred_at, received_at, "
                "device_class, source, page, view_id, engaged_ms) "
                "SELECT gen_random_uuid(), 'dwell', $1, o, r, 'desktop', 'beacon', p, $2, ms "
                "FROM unnest($3::timestamptz[], $4::timestamptz[], $5::int[], $6::int[]) "
                "AS s(o, r, p, ms)",
                asset_id, view_id, [s[0] for s in slices], received, [s[1] for s in slices],
                [s[2] for s in slices])


def _page(page: int, reached: int, share: float | None, readers: int, median: float | None,
          total: int, rereaders: int = 0, rereads: int = 0) -> dict[str, Any]:
    return {"page": page, "reached": reached, "reached_share": share, "readers": readers,
            "median_ms": median, "total_ms": total, "rereaders": rereaders,
            "rereads": rereads}


async def test_readings_posted_to_ingest_give_exact_drop_off_times_and_rereads(
    stack: Stack,
) -> None:
    """Three readers through ingest and the aggregator, as the viewer sends them: one view
    each, then dwell slices with page and view_id, in reading order."""
    await stack.ratings()
    await _assets(stack, DECK)
    uploaded = NOW - timedelta(hours=1)
    await _pdf_version(stack, DECK, 1, 4, uploaded)
    key = await stack.ingest_key()
    ingest = await stack.ingest()
    await stack.aggregator()
    start = NOW - timedelta(minutes=2)
    # (page, engaged ms) in reading order; reader 1 goes back to page 1 once.
    readings = [[(1, 3000), (2, 2000), (1, 1000), (3, 4000)], [(1, 5000), (2, 1000)],
                [(1, 2000)]]
    events: list[dict[str, Any]] = []
    for n, slices in enumerate(readings):
        view_id = str(uuid.uuid4())
        opened = start + timedelta(seconds=10 * n)
        events.append({"type": "view", "asset_id": DECK, "event_id": view_id, "page": 1,
                       "viewer_id": f"reader-{n}", "source": "beacon",
                       "occurred_at": opened.isoformat()})
        events.extend({"type": "dwell", "asset_id": DECK, "view_id": view_id, "page": page,
                       "engaged_ms": ms, "wall_ms": ms, "source": "beacon",
                       "occurred_at": (opened + timedelta(seconds=i + 1)).isoformat()}
                      for i, (page, ms) in enumerate(slices))
    async with httpx.AsyncClient(base_url=ingest.url, headers=key, timeout=30) as client:
        r = await client.post("/v1/events", json={"events": events},
                              headers={"user-agent": UA_DESKTOP})
        assert r.status_code == 202, r.text

    async with await stack.client("sales") as sales:
        async def probe() -> dict[str, Any]:
            r = await sales.get(f"/v1/assets/{DECK}/reading")
            assert r.status_code == 200, r.text
            return r.json()  # type: ignore[no-any-return]

        body = await eventually(probe, lambda b: sum(p["total_ms"] for p in b["per_page"])
                                == 18000, timeout=60)
    today = NOW.date()
    assert body == {
        "asset_id": DECK, "window": "90d",
        "since": (today - timedelta(days=89)).isoformat(), "version": None,
        "versions": [{"version": 1, "pages": 4, "uploaded_at": uploaded.isoformat(),
                      "readers": 3}],
        "pages": 4, "readers": 3,
        "per_page": [
            # Page 1: 3000 + 1000, 5000 and 2000 ms; reader 1 came back once.
            _page(1, 3, 1.0, 3, 4000, 11000, rereaders=1, rereads=1),
            _page(2, 2, 0.6667, 2, 1500, 3000),
            _page(3, 1, 0.3333, 1, 4000, 4000),
            _page(4, 0, 0.0, 0, None, 0),
        ],
        "most_reread": [{"page": 1, "rereaders": 1, "rereads": 1}],
    }


async def test_versions_windows_and_slice_order_split_the_readings_exactly(
    stack: Stack,
) -> None:
    await stack.ratings()
    await _assets(stack, DECK)
    v1_at, v2_at = NOW - timedelta(days=20), NOW - timedelta(days=5)
    await _pdf_version(stack, DECK, 1, 4, v1_at)
    await _pdf_version(stack, DECK, 2, 2, v2_at)
    old, before, on_v1, on_v2 = (uuid.uuid4() for _ in range(4))
    # 40 days ago, before any upload: inside "90d" and "all" only, in no version.
    t = NOW - timedelta(days=40)
    await _slices(stack, DECK, old, (t, 1, 1000), (t + timedelta(seconds=1), 2, 1000))
    # 25 days ago: before any upload too.
    t = NOW - timedelta(days=25)
    await _slices(stack, DECK, before, (t, 1, 500))
    # 10 days ago, version 1: 1, 2, 3, 2, 3 (pages 2 and 3 re-read once).
    t = NOW - timedelta(days=10)
    await _slices(stack, DECK, on_v1, *((t + timedelta(seconds=i), page, 1000)
                                        for i, page in enumerate((1, 2, 3, 2, 3))))
    # 3 days ago, version 2. Two slices happened at the same time: received_at orders
    # them (page 1 then page 2), so page 1 is one run, not two.
    t = NOW - timedelta(days=3)
    await _slices(stack, DECK, on_v2, (t, 1, 2000),
                  (t + timedelta(seconds=5), 2, 3000, t + timedelta(seconds=9)),
                  (t + timedelta(seconds=5), 1, 1000, t + timedelta(seconds=8)))

    async with await stack.client("sales") as sales:
        async def reading(**params: Any) -> dict[str, Any]:
            r = await sales.get(f"/v1/assets/{DECK}/reading", params=params)
            assert r.status_code == 200, r.text
            return r.json()  # type: ignore[no-any-return]

        every = await reading(window="30d")
        assert every["since"] == (NOW.date() - timedelta(days=29)).isoformat()
        assert [(v["version"], v["pages"], v["readers"]) for v in every["versions"]] == [
            (2, 2, 1), (1, 4, 1)]
        assert every["versions"][1]["uploaded_at"] == v1_at.isoformat()
        assert every["pages"] == 2 and every["readers"] == 3
        assert every["per_page"] == [
            _page(1, 3, 1.0, 3, 1000, 4500),
            _page(2, 2, 0.6667, 2, 2500, 5000, rereaders=1, rereads=1),
        ]
        assert every["most_reread"] == [{"page": 2, "rereaders": 1, "rereads": 1}]

        first = await reading(window="30d", version=1)
        assert first["version"] == 1 and first["pages"] == 4 and first["readers"] == 1
        assert first["per_page"] == [
            _page(1, 1, 1.0, 1, 1000, 1000),
            _page(2, 1, 1.0, 1, 2000, 2000, rereaders=1, rereads=1),
            _page(3, 1, 1.0, 1, 2000, 2000, rereaders=1, rereads=1),
            _page(4, 0, 0.0, 0, None, 0),
        ]
        assert first["most_reread"] == [{"page": 2, "rereaders": 1, "rereads": 1},
                                        {"page": 3, "rereaders": 1, "rereads": 1}]

        second = await reading(window="7d", version=2)
        assert second["readers"] == 1 and second["per_page"] == [
            _page(1, 1, 1.0, 1, 3000, 3000), _page(2, 1, 1.0, 1, 3000, 3000)]
        assert [v["readers"] for v in second["versions"]] == [1, 0]

        everything = await reading(window="all")
        assert everything["since"] is None and everything["readers"] == 4
        assert [v["readers"] for v in everything["versions"]] == [1, 1]
        assert [p["reached"] for p in everything["per_page"]] == [4, 3]
        assert (await reading(window="all", version=1))["per_page"] == first["per_page"]

        for params in ({"version": 3}, {"version": 0}, {"version": "two"},
                       {"window": "365d"}):
            r = await sales.get(f"/v1/assets/{DECK}/reading", params=params)
            assert r.status_code == 422, (params, r.text)
        for path in ("reading", "video", "reading/recipients"):
            r = await sales.get(f"/v1/assets/no-such-asset/{path}")
            assert r.status_code == 404, (path, r.text)
            assert r.json()["detail"] == "unknown asset 'no-such-asset'"
            r = await sales.get(f"/v1/assets/{DECK}/{path}", params={"window": "1d"})
            assert r.status_code == 422, (path, r.text)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{stack.settings.ratings_port}"
                                 ) as anonymous:
        for path in ("reading", "video", "reading/recipients"):
            assert (await anonymous.get(f"/v1/assets/{DECK}/{path}")).status_code == 401


async def test_an_asset_without_a_file_or_readings_has_zero_pages_and_null_shares(
    stack: Stack,
) -> None:
    await stack.ratings()
    await _assets(stack, DECK)
    async with await stack.client("sales") as sales:
        body = (await sales.get(f"/v1/assets/{DECK}/reading")).json()
        assert (body["versions"], body["pages"], body["readers"], body["per_page"],
                body["most_reread"]) == ([], 0, 0, [], [])
        await _slices(stack, DECK, uuid.uuid4(), (NOW - timedelta(hours=1), 3, 700))
        body = (await sales.get(f"/v1/assets/{DECK}/reading")).json()
        # No file: the highest page seen.
        assert body["pages"] == 3 and [p["reached"] for p in body["per_page"]] == [1, 1, 1]
        assert [p["readers"] for p in body["per_page"]] == [0, 0, 1]


def _bits(first: int, last: int) -> str:
    """``watched`` covering buckets first..last (bucket 0 = the highest bit)."""
    return f"{sum(1 << (99 - i) for i in range(first, last + 1)):025x}"


async def _play(stack: Stack, asset_id: str, *, days_ago: int, watched_ms: int,
                duration_ms: int, watched: str) -> None:
    """A play as the aggregator folds it into video_plays."""
    started = NOW - timedelta(days=days_ago)
    await fetch(stack.settings,
                "INSERT INTO video_plays (play_id, asset_id, view_id, day, device_class, "
                "started_at, duration_ms, watched_ms, watched) "
                "VALUES ($1, $2, $3, $4, 'desktop', $5, $6, $7, ('x' || $8)::bit(100))",
                uuid.uuid4(), asset_id, uuid.uuid4(), started.date(), started, duration_ms,
                watched_ms, watched)


async def test_video_plays_give_watch_time_quartiles_and_retention(stack: Stack) -> None:
    await stack.ratings()
    await _assets(stack, VIDEO, SILENT)
    sha = "ab" * 32
    await fetch(stack.settings,
                "INSERT INTO asset_files (asset_id, version, storage_key, content_type, bytes, "
                "duration_ms, sha256) VALUES ($1, 1, $2, 'video/mp4', 5000, 62000, $3)",
                VIDEO, f"assets/{VIDEO}/{sha}.mp4", sha)
    # The whole video, its first half, its first quarter; and one 40 days ago.
    await _play(stack, VIDEO, days_ago=0, watched_ms=60000, duration_ms=60000,
                watched=_bits(0, 99))
    await _play(stack, VIDEO, days_ago=2, watched_ms=30000, duration_ms=60000,
                watched=_bits(0, 49))
    await _play(stack, VIDEO, days_ago=29, watched_ms=15000, duration_ms=61000,
                watched=_bits(0, 24))
    await _play(stack, VIDEO, days_ago=40, watched_ms=9000, duration_ms=63000,
                watched=_bits(50, 99))
    await _play(stack, SILENT, days_ago=1, watched_ms=5000, duration_ms=20000,
                watched=_bits(10, 19))
    async with await stack.client("executive") as reader:
        r = await reader.get(f"/v1/assets/{VIDEO}/video", params={"window": "30d"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body == {
            "asset_id": VIDEO, "window": "30d",
            "since": (NOW.date() - timedelta(days=29)).isoformat(),
            "plays": 3, "watch_ms": 105000, "median_watch_ms": 30000,
            "avg_watched_share": 0.5833,  # (100 + 50 + 25) / 300 buckets
            "duration_ms": 62000,  # the file's
            "quartiles": [{"quartile": 25, "plays": 3, "share": 1.0},
                          {"quartile": 50, "plays": 2, "share": 0.6667},
                          {"quartile": 75, "plays": 1, "share": 0.3333},
                          {"quartile": 100, "plays": 1, "share": 0.3333}],
            "retention": [1.0] * 25 + [0.6667] * 25 + [0.3333] * 50,
        }
        body = (await reader.get(f"/v1/assets/{VIDEO}/video", params={"window": "all"})).json()
        assert body["plays"] == 4 and body["watch_ms"] == 114000
        assert body["median_watch_ms"] == 22500
        assert [q["plays"] for q in body["quartiles"]] == [3, 2, 2, 2]
        # No video file: the longest play's length.
        silent = (await reader.get(f"/v1/assets/{SILENT}/video")).json()
        assert silent["window"] == "90d" and silent["duration_ms"] == 20000
        assert silent["retention"][9:21] == [0.0] + [1.0] * 10 + [0.0]
        assert silent["avg_watched_share"] == 0.1
        week = (await reader.get(f"/v1/assets/{SILENT}/video", params={"window": "7d"})).json()
        assert week["plays"] == 1 and week["watch_ms"] == 5000
        await _assets_without_plays(stack, reader)


async def _assets_without_plays(stack: Stack, reader: httpx.AsyncClient) -> None:
    await stack.add_asset("no-plays", owner_email=OWNER)
    body = (await reader.get("/v1/assets/no-plays/video")).json()
    assert (body["plays"], body["watch_ms"], body["median_watch_ms"],
            body["avg_watched_share"], body["duration_ms"]) == (0, 0, None, None, None)
    assert body["quartiles"][3] == {"quartile": 100, "plays": 0, "share": None}
    assert body["retention"] == [None] * 100


async def test_plays_posted_to_ingest_fold_into_the_video_answer(stack: Stack) -> None:
    """Two plays through ingest and the aggregator, as t.js sends them: a play, then watch
    slices whose coverage is cumulative and whose media_ms add up."""
    await stack.ratings()
    await _assets(stack, VIDEO)
    key = await stack.ingest_key()
    ingest = await stack.ingest()
    await stack.aggregator()
    start = NOW - timedelta(minutes=3)
    events: list[dict[str, Any]] = []
    # Play 1 stops at half way (in two slices), play 2 watches it all (in one).
    for n, slices in enumerate([[(10000, _bits(0, 24)), (20000, _bits(0, 49))],
                                [(60000, _bits(0, 99))]]):
        view_id, play_id = str(uuid.uuid4()), str(uuid.uuid4())
        at = start + timedelta(seconds=30 * n)
        events += [
            {"type": "view", "asset_id": VIDEO, "event_id": view_id, "source": "beacon",
             "viewer_id": f"watcher-{n}", "occurred_at": at.isoformat()},
            {"type": "play", "asset_id": VIDEO, "event_id": play_id, "source": "beacon",
             "view_id": view_id, "duration_ms": 60000,
             "occurred_at": (at + timedelta(seconds=1)).isoformat()},
            *({"type": "watch", "asset_id": VIDEO, "event_id": str(uuid.uuid4()),
               "source": "beacon", "view_id": view_id, "play_id": play_id, "media_ms": ms,
               "duration_ms": 60000, "watched": watched,
               "occurred_at": (at + timedelta(seconds=2 + i)).isoformat()}
              for i, (ms, watched) in enumerate(slices)),
        ]
    async with httpx.AsyncClient(base_url=ingest.url, headers=key, timeout=30) as client:
        r = await client.post("/v1/events", json={"events": events},
                              headers={"user-agent": UA_DESKTOP})
        assert r.status_code == 202, r.text
    async with await stack.client("sales") as sales:
        async def probe() -> dict[str, Any]:
            r = await sales.get(f"/v1/assets/{VIDEO}/video", params={"window": "7d"})
            assert r.status_code == 200, r.text
            return r.json()  # type: ignore[no-any-return]

        body = await eventually(probe, lambda b: b["watch_ms"] == 90000, timeout=60)
    assert (body["plays"], body["median_watch_ms"], body["avg_watched_share"],
            body["duration_ms"]) == (2, 45000, 0.75, 60000)
    assert [(q["quartile"], q["plays"], q["share"]) for q in body["quartiles"]] == [
        (25, 2, 1.0), (50, 2, 1.0), (75, 1, 0.5), (100, 1, 0.5)]
    assert body["retention"] == [1.0] * 50 + [0.5] * 50


async def _visit(stack: Stack, link_id: str, *, opened_at: datetime,
                 forward_no: int | None = None) -> uuid.UUID:
    """A counted open as the aggregator records it in link_visits."""
    event_id = uuid.uuid4()
    await fetch(stack.settings,
                "INSERT INTO link_visits (event_id, link_id, asset_id, opened_at, browser_key, "
                "device_class, forwarded, forward_no) VALUES ($1, $2, $3, $4, $5, 'phone', $6, "
                "$7)", event_id, link_id, DECK, opened_at, uuid.uuid4().hex,
                forward_no is not None, forward_no)
    return event_id


async def test_recipients_readings_are_shown_only_to_who_may_see_their_link(
    stack: Stack,
) -> None:
    await stack.ratings()
    await _assets(stack, DECK)
    people = {}
    for who, role in (("rep", "sales"), ("rep2", "sales"), ("boss", "manager"),
                      ("admin", "admin")):
        people[who] = await stack.user(f"{who}@example.com", role, who.title())
    async with stack.client_for(people["admin"][1]) as admin:
        r = await admin.put(f"/v1/users/{people['rep'][0]}/manager",
                            json={"manager_id": people["boss"][0]})
        assert r.status_code == 200, r.text
    async with stack.client_for(people["rep"][1]) as rep:
        r = await rep.post("/v1/share-links", json={
            "asset_id": DECK, "recipient_email": "dana@prospect.example",
            "recipient_name": "Dana Whitfield", "company": "Contoso"})
        assert r.status_code == 201, r.text
        dana = r.json()["id"]
    async with stack.client_for(people["rep2"][1]) as rep2:
        r = await rep2.post("/v1/share-links", json={
            "asset_id": DECK, "recipient_email": "eve@other.example"})
        assert r.status_code == 201, r.text
        eve = r.json()["id"]

    t = NOW - timedelta(hours=2)
    # Dana reads pages 1, 2 and back to 1; a colleague she forwarded it to reads page 3.
    read = await _visit(stack, dana, opened_at=t)
    await _slices(stack, DECK, read, (t + timedelta(seconds=5), 1, 3000),
                  (t + timedelta(seconds=9), 2, 2000), (t + timedelta(seconds=12), 1, 1000))
    forward = await _visit(stack, dana, opened_at=t + timedelta(hours=1), forward_no=1)
    await _slices(stack, DECK, forward, (t + timedelta(hours=1, seconds=3), 3, 500))
    # An open with no paged dwell (never listed), and one 100 days ago (not in the default
    # 90d window).
    await _visit(stack, dana, opened_at=t + timedelta(minutes=90))
    old_t = NOW - timedelta(days=100)
    old = await _visit(stack, dana, opened_at=old_t)
    await _slices(stack, DECK, old, (old_t + timedelta(seconds=1), 2, 800))
    eve_t = t - timedelta(minutes=1)
    eves = await _visit(stack, eve, opened_at=eve_t)
    await _slices(stack, DECK, eves, (eve_t + timedelta(seconds=2), 4, 900))

    dana_readings = [
        {"link_id": dana, "recipient_name": "Dana Whitfield",
         "recipient_email": "dana@prospect.example", "company": "Contoso",
         "who": "forward 1", "opened_at": (t + timedelta(hours=1)).isoformat(),
         "furthest_page": 3, "engaged_ms": 500, "pages": [{"page": 3, "engaged_ms": 500}]},
        {"link_id": dana, "recipient_name": "Dana Whitfield",
         "recipient_email": "dana@prospect.example", "company": "Contoso",
         "who": "recipient", "opened_at": t.isoformat(), "furthest_page": 2,
         "engaged_ms": 6000, "pages": [{"page": 1, "engaged_ms": 4000},
                                       {"page": 2, "engaged_ms": 2000}]},
    ]
    eve_reading = {"link_id": eve, "recipient_name": None,
                   "recipient_email": "eve@other.example", "company": None,
                   "who": "recipient", "opened_at": eve_t.isoformat(), "furthest_page": 4,
                   "engaged_ms": 900, "pages": [{"page": 4, "engaged_ms": 900}]}

    async def recipients(who: str, **params: str) -> list[dict[str, Any]]:
        async with stack.client_for(people[who][1]) as client:
            r = await client.get(f"/v1/assets/{DECK}/reading/recipients", params=params)
            assert r.status_code == 200, r.text
            assert r.json()["asset_id"] == DECK
            return r.json()["recipients"]  # type: ignore[no-any-return]

    assert await recipients("rep") == dana_readings
    assert await recipients("boss") == dana_readings  # the rep's manager
    assert await recipients("rep2") == [eve_reading]  # not the other rep's recipient
    by_admin = await recipients("admin")
    assert [(r["link_id"], r["who"]) for r in by_admin] == [
        (dana, "forward 1"), (dana, "recipient"), (eve, "recipient")]
    assert by_admin[2] == eve_reading
    every = await recipients("rep", window="all")
    assert len(every) == 3 and every[2]["opened_at"] == old_t.isoformat()
    assert every[2]["pages"] == [{"page": 2, "engaged_ms": 800}]
    assert await recipients("rep", window="7d") == dana_readings
    async with await stack.client("marketing") as outsider:
        r = await outsider.get(f"/v1/assets/{DECK}/reading/recipients")
        assert r.status_code == 200 and r.json() == {"asset_id": DECK, "recipients": []}
