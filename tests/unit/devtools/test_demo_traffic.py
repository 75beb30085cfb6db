"""The demo's traffic generator (pure): deterministic, and with the properties the demo
promises (volume, devices, weekdays, trends, stale assets, dwell, pages, no double-clicks),
its catalog in sync with docs/demo-assets.csv."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone

import pytest

from devtools.demo_traffic import (
    DEMO_ASSETS,
    HISTORY_DAYS,
    STALE_ASSET_IDS,
    assets_csv,
    generate_history,
)
from harness.paths import DOCS
from services.ratings.catalog.csv_import import parse_assets_csv
from services.ratings.catalog.models import ASSET_TYPES
from shared.events import EventEnvelope

NOW = datetime(2026, 3, 16, 15, 30, tzinfo=timezone.utc)
CSV_PATH = DOCS / "demo-assets.csv"


@pytest.fixture(scope="module")
def history() -> list[EventEnvelope]:
    return generate_history(NOW)


def test_same_seed_and_now_give_the_same_events(history: list[EventEnvelope]) -> None:
    again = generate_history(NOW)
    assert [e.model_dump() for e in again] == [e.model_dump() for e in history]
    other = generate_history(NOW, seed=7)
    assert {e.event_id for e in other}.isdisjoint({e.event_id for e in history})


def test_volume_span_and_variety(history: list[EventEnvelope]) -> None:
    assert 15_000 <= len(history) <= 30_000
    first, last = history[0].occurred_at, history[-1].occurred_at
    assert NOW - timedelta(days=HISTORY_DAYS) <= first < NOW - timedelta(days=HISTORY_DAYS - 1)
    assert last < NOW and all(e.received_at >= e.occurred_at for e in history)
    assert [e.occurred_at for e in history] == sorted(e.occurred_at for e in history)
    assert {e.type for e in history} == {"view", "download", "dwell"}
    views = [e for e in history if e.type == "view"]
    assert {e.device.device_class.value for e in history} == {"phone", "tablet", "desktop"}
    assert all(e.device.os and e.device.browser for e in history)
    assert {e.source.value for e in views} == {"pixel", "beacon"}
    assert {e.source.value for e in history if e.type == "download"} == {"link"}
    kinds = Counter((e.viewer_id or "none").split(":")[0] for e in views)
    assert set(kinds) == {"rep", "prospect", "anon", "none"} and kinds["prospect"] > kinds["rep"]
    assert {"mail.google.com", "outlook.office.com", "linkedin.com", "www.northwind.example.com"} \
        <= {e.referrer_host for e in history}
    assert {e.asset_id for e in history} == {a.id for a in DEMO_ASSETS}


def test_reps_work_on_desktops_and_email_opens_happen_on_phones(
    history: list[EventEnvelope],
) -> None:
    views = [e for e in history if e.type == "view"]
    reps = Counter(e.device.device_class.value for e in views
                   if (e.viewer_id or "").startswith("rep:"))
    opens = Counter(e.device.device_class.value for e in views if e.source.value == "pixel")
    assert reps.most_common(1)[0][0] == "desktop" and reps["phone"] > reps["tablet"] > 0
    assert opens.most_common(1)[0][0] == "phone"


def test_weekdays_are_busier_and_trends_differ(history: list[EventEnvelope]) -> None:
    per_day = Counter(e.occurred_at.date() for e in history if e.type == "view")
    weekday = [n for d, n in per_day.items() if d.weekday() < 5]
    weekend = [n for d, n in per_day.items() if d.weekday() >= 5]
    assert statistics.mean(weekday) > 2.5 * statistics.mean(weekend)

    def views(asset_id: str, days_ago: tuple[int, int]) -> int:
        since, until = (NOW - timedelta(days=d) for d in days_ago)
        return sum(1 for e in history if e.asset_id == asset_id and e.type == "view"
                   and since <= e.occurred_at < until)

    first, last = (120, 90), (30, 0)
    assert views("pricing-sheet-2026", last) > 1.5 * views("pricing-sheet-2026", first)
    tailspin = "tailspin-retail-case-study"
    assert views(tailspin, last) < 0.7 * views(tailspin, first)


def test_stale_assets_have_no_events_in_the_last_30_days(history: list[EventEnvelope]) -> None:
    assert len(STALE_ASSET_IDS) == 2
    cutoff = NOW - timedelta(days=30)
    for asset_id in STALE_ASSET_IDS:
        times = [e.occurred_at for e in history if e.asset_id == asset_id]
        assert times and max(times) < cutoff


def test_every_dwell_belongs_to_a_generated_beacon_view(history: list[EventEnvelope]) -> None:
    views = {e.event_id: e for e in history if e.type == "view"}
    slices: dict[object, list[EventEnvelope]] = defaultdict(list)
    for e in history:
        if e.type == "dwell":
            assert e.view_id in views
            slices[e.view_id].append(e)
    for view_id, dwell in slices.items():
        view = views[view_id]  # type: ignore[index]
        assert view.source.value == "beacon"
        for d in dwell:
            assert (d.asset_id, d.viewer_id, d.device, d.page) == \
                (view.asset_id, view.viewer_id, view.device, view.page)
            assert d.occurred_at > view.occurred_at
            assert d.engaged_ms is not None and d.wall_ms is not None
            assert 500 <= d.engaged_ms <= d.wall_ms <= 3_600_000
    beacon_views = [v for v in views.values() if v.source.value == "beacon"]
    assert all(1 <= len(slices[v.event_id]) <= 4 for v in beacon_views)
    assert not any(v.event_id in slices for v in views.values() if v.source.value == "pixel")


def test_decks_carry_pages_and_other_assets_do_not(history: list[EventEnvelope]) -> None:
    pages = {a.id: a.pages for a in DEMO_ASSETS}
    deck_views = [e for e in history if e.type == "view" and pages[e.asset_id]
                  and e.source.value == "beacon"]
    deck_pages = [e.page for e in deck_views if e.page is not None]
    assert deck_views and len(deck_pages) == len(deck_views) and max(deck_pages) > 5
    for e in history:
        if e.page is not None:
            assert pages[e.asset_id] and 1 <= e.page <= pages[e.asset_id]  # type: ignore[operator]


def test_no_generated_hit_is_a_double_click(history: list[EventEnvelope]) -> None:
    """The 30 s rule would merge these; the generator never makes them, so totals are exact."""
    times: dict[tuple[str, str, str], list[datetime]] = defaultdict(list)
    for e in history:
        if e.type in ("view", "download") and e.viewer_id is not None:
            times[(e.asset_id, e.viewer_id, e.type)].append(e.occurred_at)
    for key, ts in times.items():
        ts.sort()
        assert all(b - a > timedelta(seconds=30) for a, b in zip(ts, ts[1:])), key


def test_catalog_covers_every_type_and_docs_csv_is_in_sync() -> None:
    assert {a.asset.type for a in DEMO_ASSETS} == set(ASSET_TYPES)
    assert 3 <= len({a.asset.owner_email for a in DEMO_ASSETS}) <= 4
    assert all(str(a.asset.url).startswith("https://") for a in DEMO_ASSETS)
    text = CSV_PATH.read_text(encoding="utf-8")
    assert text == assets_csv(a.asset for a in DEMO_ASSETS)
    assert parse_assets_csv(text) == [a.asset for a in DEMO_ASSETS]


def test_history_ending_now_never_builds_a_visit_in_the_future() -> None:
    """Late in a UTC day a visitor west of UTC has its local afternoon after ``now``; such
    a visit is skipped, not built: an envelope more than a day ahead is refused, and the
    demo once stopped there."""
    from random import Random

    from devtools.demo_traffic import _population, _session

    rng = Random(1)
    people = _population(rng)
    now = datetime.now(timezone.utc)
    for viewer in (people.draw(rng, "prospect") for _ in range(50)):
        assert _session(rng, DEMO_ASSETS[0], viewer, (now + timedelta(days=2)).date(),
                        now) == []
    history = generate_history(now)
    assert history and max(e.received_at for e in history) < now
