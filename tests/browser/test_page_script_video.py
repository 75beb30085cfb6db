"""The page script's videos, slides and tracked downloads in a real browser: Debian's headless
Chromium plays the 20 s test video (H.264, muted) on a customer's page embedding t.js, and
the tests read what t.js sent. 10 s played then paused is one play, ~10 s of watch time and
~50 of the 100 coverage buckets; a video scrolled out of view accrues nothing; a seek marks
nothing it skipped; glassboard.page(n) splits the dwell time per page under one view, its
stub's queued calls are replayed, and a data-glassboard-download click sends a download.

Each scenario runs inside one ``page.evaluate`` on the page's own clock, so the test's round
trips to the browser do not skew the timings. The video events are read from the requests
the page made (ingest may still refuse play/watch with 422 while its support is being
written); the rest through ingest and the aggregator, in the events table.

Skipped only when /usr/bin/chromium is missing and ``CI`` is unset.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from harness.browser import CHROMIUM, CHROMIUM_ARGS, record_beacons, skip_module_without_chromium

skip_module_without_chromium()

from playwright.async_api import Browser, BrowserContext, Page, async_playwright  # noqa: E402
from playwright.async_api import Error as PlaywrightError  # noqa: E402
from playwright.async_api import Request as PlaywrightRequest  # noqa: E402
from playwright.async_api import Response as PlaywrightResponse  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import FileResponse, HTMLResponse  # noqa: E402
from starlette.responses import Response as StarletteResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402

from harness.db import fetch  # noqa: E402
from harness.stack import RunningServer, Stack, eventually  # noqa: E402
from shared.embedded import free_port  # noqa: E402

pytestmark = pytest.mark.browser

ASSET = "acme-flow-3-demo"
VIDEO = Path(__file__).resolve().parents[1] / "harness" / "media" / "steelblue-20s.mp4"
STUB = ("<script>window.glassboard=window.glassboard||"
        "{page:function(n){(this.q=this.q||[]).push(n)}}</script>")

#: A product page: the video at the top, then enough page to scroll it out of view.
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Acme Flow 3: the demo</title></head>
<body style="margin: 0; font-family: 'DejaVu Sans', sans-serif">
{stub}{calls}
<h1 style="margin: 16px">Acme Flow 3 in 20 seconds</h1>
{video}
<p><a id="plain" href="#specs">Specifications</a>
<a id="sheet" href="/files/acme-flow-3.pdf" download data-glassboard-download>Download the
sheet (PDF)</a></p>
<div style="height: 4000px"></div>
<script async src="{ingest}/t.js" data-asset="{asset}" data-page="1"
        data-heartbeat="5"></script>
</body></html>"""
VIDEO_TAG = ('<video id="demo" src="/media/steelblue-20s.mp4" muted playsinline preload="auto" '
             'width="480" height="270"></video>')


@dataclass
class Sent:
    """What the page posted to ingest, and what ingest answered (status per request)."""

    events: list[dict[str, Any]]
    answers: list[tuple[list[str], int]] = field(default_factory=list)
    requests: int = 0

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind]


@dataclass
class Setup:
    stack: Stack
    ingest_url: str
    site_url: str
    browser: Browser


@pytest.fixture
async def setup(stack: Stack) -> AsyncIterator[Setup]:
    await stack.add_asset(ASSET, title="Acme Flow 3 demo", type="product_sheet")
    ingest = await stack.ingest()
    await stack.aggregator()

    async def page(request: Request) -> HTMLResponse:
        name = request.path_params["name"]
        calls = ""
        if name == "queued":  # before t.js loads: one good call, then ones to ignore
            calls = ('<script>glassboard.page(4); glassboard.page("2"); glassboard.page(0); '
                     'glassboard.page(2.5); glassboard.page(10001);</script>')
        return HTMLResponse(PAGE.format(
            ingest=ingest.url, asset=ASSET, stub=STUB, calls=calls,
            video=VIDEO_TAG if name == "video" else ""))

    async def video(request: Request) -> FileResponse:
        return FileResponse(VIDEO, media_type="video/mp4")

    async def pdf(request: Request) -> StarletteResponse:
        return StarletteResponse(b"%PDF-1.4\n% Acme Flow 3\n", media_type="application/pdf")

    site_port = free_port()
    site = await RunningServer(Starlette(routes=[
        Route("/p/{name}", page), Route("/media/steelblue-20s.mp4", video),
        Route("/files/acme-flow-3.pdf", pdf),
    ]), site_port).start()
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                       args=list(CHROMIUM_ARGS))
            try:
                yield Setup(stack, ingest.url, site.url, browser)
            finally:
                await browser.close()
    finally:
        await site.stop()


async def _open(setup: Setup, name: str) -> tuple[BrowserContext, Page, Sent]:
    """A fresh reader on page ``name``; returns once ingest accepted its view."""
    context = await setup.browser.new_context(viewport={"width": 1280, "height": 720})
    sent = Sent(record_beacons(context, setup.ingest_url))

    def asked(request: PlaywrightRequest) -> None:
        if request.url == f"{setup.ingest_url}/v1/events" and request.method == "POST":
            sent.requests += 1

    def answered(response: PlaywrightResponse) -> None:
        request = response.request
        if request.url == f"{setup.ingest_url}/v1/events" and request.method == "POST":
            types = [e["type"] for e in json.loads(request.post_data or "{}")["events"]]
            sent.answers.append((types, response.status))

    context.on("request", asked)
    context.on("response", answered)
    page = await context.new_page()
    async with page.expect_response(lambda r: r.url == f"{setup.ingest_url}/v1/events") as view:
        await page.goto(f"{setup.site_url}/p/{name}")
    assert (await view.value).status == 202
    assert [e["type"] for e in sent.events] == ["view"]
    return context, page, sent


async def _leave(page: Page, context: BrowserContext) -> None:
    with contextlib.suppress(PlaywrightError):
        await page.goto("about:blank")  # pagehide: the open slices go out
    await context.close()


def _buckets(watched: str) -> set[int]:
    """The contract's decoding: bucket i is bit 99 - i of the 100-bit big-endian number."""
    assert len(watched) == 25 and watched == watched.lower()
    return {i for i in range(100) if (int(watched, 16) >> (99 - i)) & 1}


def _midpoints_in(start: float, end: float, duration: float) -> set[int]:
    """Buckets whose middle lies in [start, end): what continuous playback there marks."""
    return {i for i in range(100) if start <= (i + 0.5) * duration / 100 < end}


def _quartiles(buckets: set[int]) -> set[int]:
    return {q for q in (25, 50, 75, 100) if q - 1 in buckets}


# Play from the start, wait `ms` on the page's clock from the first "playing", pause.
_PLAY_THEN_PAUSE = """async (ms) => {
  const v = document.querySelector("video");
  const playing = new Promise(done => v.addEventListener("playing", done, {once: true}));
  await v.play();
  await playing;
  const started = performance.now(), from = v.currentTime;
  await new Promise(done => setTimeout(done, ms));
  v.pause();
  return {from, to: v.currentTime, ms: performance.now() - started, duration: v.duration};
}"""


async def test_ten_seconds_played_then_paused_is_one_play_and_half_the_video(
    setup: Setup,
) -> None:
    context, page, sent = await _open(setup, "video")
    played = await page.evaluate(_PLAY_THEN_PAUSE, 10_000)
    # The pause slice goes out at once (not as a beacon at leave time): wait for ingest's
    # answers to it and to every request before it.
    await page.wait_for_timeout(300)
    await _answered(sent)
    paused_at = _midpoints_in(played["from"], played["to"], played["duration"])
    await _leave(page, context)

    [view] = sent.of("view")
    [play] = sent.of("play")
    duration_ms = round(played["duration"] * 1000)
    assert played["duration"] == pytest.approx(20.0, abs=0.1)
    assert play["view_id"] == view["event_id"] and play["source"] == "beacon"
    assert play["asset_id"] == ASSET and play["duration_ms"] == duration_ms
    watches = sent.of("watch")
    assert len(watches) >= 2  # heartbeats every 5 s while playing, then the pause
    assert {(w["play_id"], w["view_id"], w["duration_ms"]) for w in watches} == {
        (play["event_id"], view["event_id"], duration_ms)}
    assert len({w["event_id"] for w in watches}) == len(watches)
    watched_ms = sum(w["media_ms"] for w in watches)
    assert 9000 <= watched_ms <= 11_000, watches
    assert abs(watched_ms - played["ms"]) <= 500, (watched_ms, played)
    print(f"played {played}: {len(watches)} watch slices, media_ms {watched_ms}, "
          f"buckets {len(_buckets(watches[-1]['watched']))}, answers {sent.answers}")

    # Coverage is cumulative: each slice holds the ones before it; the last one is final.
    coverage = [_buckets(w["watched"]) for w in watches]
    assert all(a <= b for a, b in zip(coverage, coverage[1:], strict=False))
    final = coverage[-1]
    assert 48 <= len(final) <= 52, sorted(final)
    assert final == paused_at
    assert final == set(range(len(final)))  # from bucket 0, with no hole
    # Quartile 25 is reached, 50 exactly when bucket 49 (9.8..10 s) was played over its
    # middle (9.9 s), 75 is not.
    assert 25 in _quartiles(final) and 75 not in _quartiles(final)
    assert (50 in _quartiles(final)) == (played["to"] >= 9.9 * played["duration"] / 20)

    # Unguarded on purpose: ingest accepts the play and the watch slices. Fails with 422
    # until ingest knows play/watch (issue 14, second part).
    assert {status for types, status in sent.answers if {"play", "watch"} & set(types)} == {202}


async def test_a_video_scrolled_out_of_view_accrues_no_watch_time(setup: Setup) -> None:
    context, page, sent = await _open(setup, "video")
    # ~2 s in view, ~3 s scrolled away (the page goes on playing it), ~2 s back, pause.
    timeline = await page.evaluate("""async () => {
      const v = document.querySelector("video");
      const after = (ms) => new Promise(done => setTimeout(done, ms));
      const playing = new Promise(done => v.addEventListener("playing", done, {once: true}));
      await v.play();
      await playing;
      const at = [[performance.now(), v.currentTime]];
      await after(2000);
      window.scrollTo(0, 3000);
      at.push([performance.now(), v.currentTime]);
      await after(3000);
      window.scrollTo(0, 0);
      at.push([performance.now(), v.currentTime]);
      await after(2000);
      v.pause();
      at.push([performance.now(), v.currentTime]);
      return {at, duration: v.duration, playing: !v.paused};
    }""")
    await eventually(lambda: _async(sent.events),
                     lambda es: sum(e.get("media_ms", 0) for e in es) >= 3500, timeout=5)
    await _leave(page, context)

    (t0, p0), (t1, p1), (t2, p2), (t3, p3) = timeline["at"]
    assert p2 - p1 >= 2.5  # it really played while out of view
    in_view_ms = (t1 - t0) + (t3 - t2)
    watches = sent.of("watch")
    [play] = sent.of("play")
    watched_ms = sum(w["media_ms"] for w in watches)
    assert abs(watched_ms - in_view_ms) <= 0.1 * in_view_ms, (watched_ms, in_view_ms)
    final = _buckets(watches[-1]["watched"])
    print(f"in view {in_view_ms:.0f} ms of {t3 - t0:.0f} ms played: media_ms {watched_ms}, "
          f"buckets {sorted(final)}")
    d = timeline["duration"]
    # Observers answer within a frame or so of the scroll: 0.4 s (2 buckets) of margin.
    assert _midpoints_in(p0, p1 - 0.4, d) <= final
    assert _midpoints_in(p2 + 0.4, p3, d) <= final
    assert not final & _midpoints_in(p1 + 0.4, p2 - 0.4, d), sorted(final)
    assert {w["play_id"] for w in watches} == {play["event_id"]}


async def test_a_seek_marks_nothing_it_skipped_and_a_play_after_the_end_is_a_new_play(
    setup: Setup,
) -> None:
    context, page, sent = await _open(setup, "slides")  # no video yet: one is added later
    timeline = await page.evaluate("""async () => {
      const v = document.createElement("video");
      v.muted = true; v.playsInline = true; v.preload = "auto";
      v.src = "/media/steelblue-20s.mp4";
      v.width = 480; v.height = 270;
      document.body.prepend(v);
      const once = (type) => new Promise(done => v.addEventListener(type, done, {once: true}));
      const after = (ms) => new Promise(done => setTimeout(done, ms));
      const playing = once("playing");
      await v.play();
      await playing;
      const started = performance.now();
      await after(2000);
      const seekFrom = v.currentTime;
      v.currentTime = 14;  // forward, while playing
      await once("ended");
      const ended = performance.now();
      await after(300);
      const again = once("playing");
      await v.play();  // from the start again: a new play
      await again;
      const restarted = performance.now();
      await after(1500);
      v.pause();
      return {seekFrom, playedMs: ended - started, againMs: performance.now() - restarted,
              to: v.currentTime, duration: v.duration};
    }""")
    await eventually(lambda: _async(sent.events),
                     lambda es: len({e.get("play_id") for e in es if e["type"] == "watch"}) == 2,
                     timeout=5)
    await _leave(page, context)

    first, second = sent.of("play")
    assert first["event_id"] != second["event_id"]
    d = timeline["duration"]
    by_play = {p["event_id"]: [w for w in sent.of("watch") if w["play_id"] == p["event_id"]]
               for p in (first, second)}
    seen = _buckets(by_play[first["event_id"]][-1]["watched"])
    # From the start to (nearly: the last reading before the seek) where the seek began,
    # then from 14 s exactly (bucket 70, middle 14.1 s) to the end, clamped to bucket 99.
    before_seek = _midpoints_in(0, timeline["seekFrom"], d)
    assert _midpoints_in(0, timeline["seekFrom"] - 0.3, d) <= seen
    assert seen & set(range(70)) <= before_seek
    assert set(range(70, 100)) <= seen and 69 not in seen
    assert _quartiles(seen) == {75, 100}  # 25 and 50 were skipped
    played_ms = sum(w["media_ms"] for w in by_play[first["event_id"]])
    print(f"{timeline}: first play media_ms {played_ms}, buckets {sorted(seen)}")
    assert abs(played_ms - timeline["playedMs"]) <= 0.1 * timeline["playedMs"]

    again = _buckets(by_play[second["event_id"]][-1]["watched"])
    assert again == _midpoints_in(0, timeline["to"], d) and 5 <= len(again) <= 9
    again_ms = sum(w["media_ms"] for w in by_play[second["event_id"]])
    assert abs(again_ms - timeline["againMs"]) <= 0.1 * timeline["againMs"]


# Call glassboard.page(2) 2 s after t.js arrived (the page's clock), leave 3 s later.
_SLIDES = """(ingest) => new Promise(done => {
  const [script] = performance.getEntriesByName(ingest + "/t.js");
  const from = script.responseEnd;
  setTimeout(() => {
    glassboard.page(2);
    setTimeout(() => { done(performance.now() - from); location.href = "about:blank"; },
               from + 5000 - performance.now());
  }, from + 2000 - performance.now());
})"""


async def test_glassboard_page_splits_the_time_per_page_under_one_view(setup: Setup) -> None:
    context, page, sent = await _open(setup, "slides")
    assert await page.evaluate("typeof glassboard.page === 'function' && !glassboard.q")
    with contextlib.suppress(PlaywrightError):  # leaving may end the call before it answers
        await page.evaluate(_SLIDES, setup.ingest_url)
    await page.wait_for_url("about:blank")
    await context.close()

    [view] = sent.of("view")
    assert view["page"] == 1  # data-page: the page the view was counted on
    rows = await eventually(lambda: _dwell(setup), lambda rs: 2 in {r["page"] for r in rs},
                            timeout=15)
    assert {str(r["view_id"]) for r in rows} == {view["event_id"]}
    order = [r["page"] for r in rows]
    assert [p for i, p in enumerate(order) if i == 0 or order[i - 1] != p] == [1, 2]
    per_page = {p: sum(r["engaged_ms"] for r in rows if r["page"] == p) for p in (1, 2)}
    print(f"engaged ms per page {per_page}")
    assert 1800 <= per_page[1] <= 2200, per_page
    assert 2700 <= per_page[2] <= 3300, per_page
    views = await fetch(setup.stack.settings,
                        "SELECT count(*) AS n FROM events WHERE type = 'view'")
    assert views == [{"n": 1}]  # a page turn is no new view


async def test_calls_queued_by_the_stub_before_load_are_replayed(setup: Setup) -> None:
    context, page, sent = await _open(setup, "queued")
    # Replayed in order: page(4) holds, "2", 0, 2.5 and 10001 are not pages; neither is -1.
    assert await page.evaluate("glassboard.q === undefined && (glassboard.page(-1), true)")
    await page.wait_for_timeout(1000)
    await _leave(page, context)

    [view] = sent.of("view")
    assert view["page"] == 1
    rows = await eventually(lambda: _dwell(setup), lambda rs: bool(rs), timeout=15)
    assert {(r["page"], str(r["view_id"])) for r in rows} == {(4, view["event_id"])}
    assert sum(r["engaged_ms"] for r in rows) >= 900


async def test_a_tracked_download_click_sends_a_download_with_the_view(setup: Setup) -> None:
    context, page, sent = await _open(setup, "slides")
    await page.click("#plain")  # an ordinary link counts nothing
    async with page.expect_download():
        await page.click("#sheet")
    [view] = sent.of("view")
    downloads = await eventually(lambda: _async(sent.of("download")), bool, timeout=5)
    await _answered(sent)
    await _leave(page, context)

    assert [(d["view_id"], d["asset_id"], d["source"]) for d in downloads] == [
        (view["event_id"], ASSET, "beacon")]
    rows = await eventually(
        lambda: fetch(setup.stack.settings,
                      "SELECT view_id, page FROM events WHERE type = 'download'"),
        bool, timeout=15)
    assert [(str(r["view_id"]), r["page"]) for r in rows] == [(view["event_id"], 1)]
    assert {status for types, status in sent.answers if "download" in types} == {202}


async def _dwell(setup: Setup) -> list[dict[str, Any]]:
    return await fetch(setup.stack.settings,
                       "SELECT page, engaged_ms, view_id FROM events WHERE asset_id = $1 "
                       "AND type = 'dwell' ORDER BY occurred_at, received_at", ASSET)


async def _answered(sent: Sent) -> None:
    """Wait until ingest has answered every request the page made so far."""
    await eventually(lambda: _async(sent.answers), lambda a: len(a) == sent.requests, timeout=5)


async def _async(value: Any) -> Any:
    """``eventually`` polls an awaitable; the recorded requests are filled in as they go."""
    return list(value)
