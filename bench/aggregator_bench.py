"""Aggregator throughput: a topic full of events, then the real service drains it.

Events are published before the aggregator starts, so what is timed is the aggregator
alone (not a producer feeding it). Its start-up (imports, two consumer-group joins, ~10 s
on tansu) is reported apart: consumption may begin before ``start()`` returns, so no
"ready" signal can start the clock. Instead a statement trigger on the bench database's
``events`` table notes the time and row count of every batch's INSERT; the rate is taken
from the first batch's INSERT to the last one's, i.e. over whole batch cycles only.
"""

from __future__ import annotations

import asyncio
import io
import os
import pstats
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from devtools.settings import StackSettings

from .cpu import CpuMeter, CpuUsage, Probe
from .infra import settings_env
from .procs import Children

__all__ = ["AggregatorRun", "profile_summary", "run_aggregator"]

_POLL_SECONDS = 0.1

#: One row per INSERT INTO events: a few rows per run, so polling its sum costs nothing
#: (unlike count(*) FROM events, ~5 ms at 100k rows), and the times are exact.
_INSTALL_PROGRESS = """
CREATE TABLE bench_progress (at timestamptz NOT NULL, rows integer NOT NULL);
CREATE FUNCTION bench_note_batch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO bench_progress SELECT clock_timestamp(), count(*) FROM new_rows;
    RETURN NULL;
END $$;
CREATE TRIGGER bench_note_batch AFTER INSERT ON events REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bench_note_batch();
"""

_CHECKS = """
SELECT (SELECT count(*) FROM events) AS stored,
       (SELECT count(*) FROM rejected_events) AS rejected,
       (SELECT coalesce(sum(views), 0) FROM asset_totals) AS total_views,
       (SELECT count(*) FROM events WHERE type = 'view' AND suppressed IS NULL) AS counted_views,
       (SELECT coalesce(sum(downloads), 0) FROM asset_totals) AS total_downloads,
       (SELECT count(*) FROM events WHERE type = 'download' AND suppressed IS NULL)
           AS counted_downloads
"""


@dataclass(frozen=True)
class AggregatorRun:
    events: int
    stored: int
    batches: list[tuple[float, int]]  # (INSERT time, epoch seconds; rows) per batch
    spawned_at: float  # epoch seconds
    check: str
    cpu: CpuUsage = field(default_factory=CpuUsage)

    @property
    def rate(self) -> float:
        """Events/s over whole batch cycles: first batch's INSERT to the last one's."""
        if len(self.batches) < 2:
            return 0.0
        span = self.batches[-1][0] - self.batches[0][0]
        return sum(rows for _, rows in self.batches[1:]) / span if span > 0 else 0.0

    @property
    def cycle_seconds(self) -> float:
        return self.batches[-1][0] - self.batches[0][0] if len(self.batches) > 1 else 0.0

    @property
    def startup_seconds(self) -> float:
        """Spawn to the first batch's INSERT: imports, pool, group joins, first fetch."""
        return self.batches[0][0] - self.spawned_at if self.batches else 0.0

    @property
    def mean_batch(self) -> float:
        return self.stored / len(self.batches) if self.batches else 0.0


async def run_aggregator(
    settings: StackSettings,
    children: Children,
    expect: int,
    *,
    probes: dict[str, Probe],
    profile_to: Path | None = None,
) -> AggregatorRun:
    """Start the aggregator on a full topic; time it until ``expect`` events are stored."""
    env = settings_env(settings)
    if profile_to is not None:
        env["BENCH_PROFILE"] = str(profile_to)
    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.execute(_INSTALL_PROGRESS)
        spawned_at = time.time()
        child = children.start("aggregator", "aggregator", env)
        meter = CpuMeter({"aggregator": child.cpu_seconds, **probes})
        stored, deadline = 0, time.perf_counter() + 60.0 + expect / 500
        while stored < expect and time.perf_counter() < deadline:
            child.check_alive()
            await asyncio.sleep(_POLL_SECONDS)
            stored = await conn.fetchval("SELECT coalesce(sum(rows), 0) FROM bench_progress")
            if stored and not meter.running:
                meter.start(time.perf_counter())
        cpu = meter.stop(time.perf_counter())
        children.stop(child)
        batches = [(r["at"].timestamp(), r["rows"])
                   for r in await conn.fetch("SELECT at, rows FROM bench_progress ORDER BY at")]
        check = _describe_checks(dict(await conn.fetchrow(_CHECKS)), expect)
    finally:
        await conn.close()
    return AggregatorRun(expect, stored, batches, spawned_at, check, cpu)


def _describe_checks(row: dict[str, int], expect: int) -> str:
    problems = []
    if row["stored"] != expect:
        problems.append(f"stored {row['stored']} of {expect}")
    if row["rejected"]:
        problems.append(f"{row['rejected']} rejected")
    if row["total_views"] != row["counted_views"]:
        problems.append(f"asset_totals views {row['total_views']} != {row['counted_views']}")
    if row["total_downloads"] != row["counted_downloads"]:
        problems.append(
            f"asset_totals downloads {row['total_downloads']} != {row['counted_downloads']}"
        )
    if problems:
        return "FAILED: " + "; ".join(problems)
    return (f"ok: {row['stored']} stored, {row['counted_views']} views and "
            f"{row['counted_downloads']} downloads counted, totals agree")


def profile_summary(path: Path, limit: int = 25) -> str:
    """The aggregator's top functions by own time, from the cProfile dump."""
    if not path.exists() or os.path.getsize(path) == 0:
        return "(no profile written)"
    out = io.StringIO()
    stats = pstats.Stats(str(path), stream=out)
    stats.sort_stats("tottime").print_stats(limit)
    return out.getvalue()
