"""The printed report: the machine, then each figure beside its bare limit.

Plain fixed-width text, so it pastes into docs/benchmarks.md and CI logs unchanged.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .aggregator_bench import AggregatorRun
from .bare import Throughput
from .bot_set import BotFigures
from .cpu import CpuUsage
from .http_bench import HttpRun
from .http_load import LoadResult
from .latency import LATENCY_ASSETS, PipelineLatency
from .office_nat import OfficeFigures, OfficeSend
from .stats import Latencies, percentile

__all__ = ["AggregatorFigures", "LatencyFigures", "Report", "machine_lines"]

#: What the aggregator should sustain on the 2-core reference machine.
AGGREGATOR_TARGET = 20_000
#: Pixel p99 under the User-Agent flood may be at most this many times the idle p99.
FLOOD_P99_TARGET = 2.0
#: Bot detection on the labelled set: precision and recall at least these.
BOT_PRECISION_TARGET = 0.99
BOT_RECALL_TARGET = 0.95
#: Other processes using more than this (% of one core) make a figure suspect.
BUSY_MACHINE_PERCENT = 15.0


@dataclass(frozen=True)
class AggregatorFigures:
    run: AggregatorRun
    produce: Throughput
    consume: Throughput
    decode: Throughput
    copy: Throughput
    max_records: int


@dataclass(frozen=True)
class LatencyFigures:
    pipeline: PipelineLatency
    kafka: Latencies
    rate: float
    seconds: float


@dataclass
class Report:
    started: datetime
    command: str
    machine: list[str]
    sizes: str
    http: HttpRun | None = None
    aggregator: AggregatorFigures | None = None
    latency: LatencyFigures | None = None
    bots: BotFigures | None = None
    office: OfficeFigures | None = None

    def render(self) -> str:
        lines = [f"Glassboard benchmark - `{self.command}`, "
                 f"{self.started:%Y-%m-%d %H:%M} UTC", *self.machine, self.sizes, ""]
        if self.http:
            lines += _http_section(self.http) + [""]
        if self.aggregator:
            lines += _aggregator_section(self.aggregator) + [""]
        if self.latency:
            lines += _latency_section(self.latency) + [""]
        if self.bots:
            lines += _bots_section(self.bots) + [""]
        if self.office:
            lines += _office_section(self.office) + [""]
        lines += self._summary()
        return "\n".join(lines)

    def _summary(self) -> list[str]:
        rows: list[Sequence[str]] = [("figure", "glassboard", "bare limit", "ratio")]
        if self.http:
            ingest, hello = self.http.ingest.rate, self.http.hello.rate
            rows.append(("pixel hits/s", _n(ingest), f"{_n(hello)} hello app", _pct(ingest, hello)))
            if self.http.flooded is not None:
                idle = _pct_ms(self.http.ingest.latencies, 99)
                flooded = _pct_ms(self.http.flooded.latencies, 99)
                rows.append(("pixel p99 ms, 1,000-UA flood", _ms(flooded),
                             f"{_ms(idle)} ingest idle", _times(flooded, idle)))
                rows.append(("", "", f"{_ms(_pct_ms(self.http.hello.latencies, 99))} hello app",
                             _times(flooded, _pct_ms(self.http.hello.latencies, 99))))
        if self.aggregator:
            a = self.aggregator
            rate = a.run.rate
            rows.append(("aggregator events/s", _n(rate), f"{_n(a.produce.rate)} raw produce",
                         _pct(rate, a.produce.rate)))
            rows.append(("", "", f"{_n(a.consume.rate)} raw consume", _pct(rate, a.consume.rate)))
            rows.append(("", "", f"{_n(a.copy.rate)} raw COPY", _pct(rate, a.copy.rate)))
        if self.latency:
            k = self.latency.kafka
            for label, p in (("hit -> SSE", self.latency.pipeline.to_sse),
                             ("hit -> asset-scores", self.latency.pipeline.to_topic)):
                for pct in (50, 99):
                    rows.append((f"{label} p{pct} ms", _ms(p.ms(pct)),
                                 f"{_ms(k.ms(pct))} Kafka round trip",
                                 _times(p.ms(pct), k.ms(pct))))
        if self.bots:
            b = self.bots
            rows.append(("bot precision", f"{100 * b.precision:.2f}%",
                         f"target {100 * BOT_PRECISION_TARGET:.0f}%", ""))
            rows.append(("bot recall", f"{100 * b.recall:.2f}%",
                         f"target {100 * BOT_RECALL_TARGET:.0f}%", ""))
        if self.office:
            for label, send in (("office peak minute, pixel", self.office.pixel),
                                ("office peak minute, script", self.office.beacon),
                                ("office, one asset at once", self.office.one_asset)):
                rows.append((label, f"{_n(send.refused_in_peak)} x 429 of {_n(send.peak)}",
                             f"limit {send.limit}", _headroom(send)))
        return ["Summary", *_table(rows, indent=2)]


def _http_section(run: HttpRun) -> list[str]:
    header = ("", "req/s", "p50 ms", "p99 ms", "errors", "server CPU", "client CPU")

    def row(name: str, r: LoadResult) -> tuple[str, ...]:
        cpu = r.cpu.percent
        return (name, _n(r.rate), _ms(_pct_ms(r.latencies, 50)), _ms(_pct_ms(r.latencies, 99)),
                str(r.errors), _cpu(cpu.get("server")), _cpu(cpu.get("bench process")))

    ok = run.published == run.distinct == run.answered
    return [
        f"1. Pixel hits through ingest: GET /px.gif?asset=..&viewer=.., one uvicorn process, "
        f"access log off, {run.connections} keep-alive connections, {run.ingest.seconds:g} s "
        "after warm-up",
        *_table([header, row("ingest /px.gif", run.ingest),
                 row("bare: hello app, same server", run.hello)], indent=2),
        f"  ingest / hello: {_pct(run.ingest.rate, run.hello.rate)}",
        *_cpu_lines("hello run", run.hello.cpu),
        *_cpu_lines("ingest run", run.ingest.cpu),
        *_flood_lines(run),
        f"  check: {_n(run.answered)} hits answered 200 or accepted, {_n(run.published)} "
        f"events on the topic, {_n(run.distinct)} distinct ids - {'ok' if ok else 'MISMATCH'}",
    ]


def _flood_lines(run: HttpRun) -> list[str]:
    if run.flooded is None or run.flood is None:
        return []
    f, flooded = run.flood, run.flooded
    idle, under = _pct_ms(run.ingest.latencies, 99), _pct_ms(flooded.latencies, 99)
    met = "met" if under is not None and idle and under <= FLOOD_P99_TARGET * idle else "MISSED"
    statuses = ", ".join(f"{n} x {code}" for code, n in sorted(f.statuses.items()))
    batch_s = sorted(f.seconds)[len(f.seconds) // 2] if f.seconds else None
    cpu = flooded.cpu.percent
    return [
        f"  under the User-Agent flood: {f.batches} batches of 1,000 never-seen User-Agents "
        f"back to back ({statuses}; median batch {batch_s or 0:.2f} s); every pixel request "
        "sent in the window counts, however late its answer",
        *_table([("", "req/s", "p50 ms", "p99 ms", "errors", "server CPU"),
                 ("ingest /px.gif, flooded", _n(flooded.rate),
                  _ms(_pct_ms(flooded.latencies, 50)), _ms(under), str(flooded.errors),
                  _cpu(cpu.get("server")))], indent=2),
        f"  pixel p99 flooded / idle: {_times(under, idle)} (target <= {FLOOD_P99_TARGET:g}x: "
        f"{met})",
    ]


def _bots_section(b: BotFigures) -> list[str]:
    rows: list[Sequence[str]] = [("source (label)", "right", "of")]
    rows += [(name, _n(hit), _n(total)) for name, (hit, total) in sorted(b.by_source.items())]
    met = ("met" if b.precision >= BOT_PRECISION_TARGET and b.recall >= BOT_RECALL_TARGET
           else "MISSED")
    lines = [
        f"4. Bots: Device Detector + COUNTER-Robots + crawler-user-agents + no-engine rule, on "
        f"{_n(b.size)} labelled User-Agents (bench/bot_set.py)",
        *_table(rows, indent=2),
        f"  bot precision {100 * b.precision:.2f}%, recall {100 * b.recall:.2f}% "
        f"(targets {100 * BOT_PRECISION_TARGET:.0f}% / {100 * BOT_RECALL_TARGET:.0f}%: {met}); "
        f"browsers right {_n(b.browsers_right)} of {_n(b.browsers)}; mail image proxies "
        f"counted as opens {b.mail_proxies_counted} of {b.mail_proxies}",
    ]
    lines += [f"  browser taken for {got}: {ua[:100]}" for ua, _, got in b.wrong[:10]]
    return lines


def _headroom(send: OfficeSend) -> str:
    if send.first_refused_after is None:
        return "no 429 up to 10x the peak"
    return f"first 429 at {send.first_refused_after / send.peak:.1f}x the peak"


def _office_section(o: OfficeFigures) -> list[str]:
    rows: list[Sequence[str]] = [("path", "peak minute", "429s", "sent in", "limit",
                                  "first 429 after")]
    for name, send, unit in (("pixel + download links", o.pixel, "hits"),
                             ("page script (keyless beacon)", o.beacon, "events"),
                             ("everyone opens one asset", o.one_asset, "hits")):
        first = "none" if send.first_refused_after is None else _n(send.first_refused_after)
        rows.append((name, f"{_n(send.peak)} {unit}", _n(send.refused_in_peak),
                     f"{send.seconds:.1f} s", send.limit, f"{first} ({_headroom(send)})"))
    met = ("met" if not (o.pixel.refused_in_peak or o.beacon.refused_in_peak
                         or o.one_asset.refused_in_peak) else "MISSED")
    return [
        f"5. An office of {o.people} people behind one NAT (one client address), its peak "
        "minute sent at once against ingest's default limits (bench/office_nat.py)",
        *_table(rows, indent=2),
        f"  no 429 in the peak minute: {met}. The hourly pixel limit (200,000/hour) is "
        "sized by arithmetic, not sent: 100,000 hits in the office's busiest hour",
    ]


def _aggregator_section(a: AggregatorFigures) -> list[str]:
    run = a.run
    rate = run.rate
    met = "met" if rate >= AGGREGATOR_TARGET else "MISSED"
    if len(run.batches) < 2:
        met = "not measured: fewer than two batches (use more --events)"
    rows: list[Sequence[str]] = [
        ("", "events/s", "seconds", "aggregator is"),
        ("aggregator, AggregatorService", _n(rate) if rate else "-", f"{run.cycle_seconds:.2f}",
         ""),
        ("bare: aiokafka produce, acks in bulk", _n(a.produce.rate), f"{a.produce.seconds:.2f}",
         _pct(rate, a.produce.rate)),
        ("bare: aiokafka consume, getmany", _n(a.consume.rate), f"{a.consume.seconds:.2f}",
         _pct(rate, a.consume.rate)),
        ("bare: asyncpg COPY, plain table", _n(a.copy.rate), f"{a.copy.seconds:.2f}",
         _pct(rate, a.copy.rate)),
        ("floor: EventEnvelope decode, 1 core", _n(a.decode.rate), f"{a.decode.seconds:.2f}",
         _pct(rate, a.decode.rate)),
    ]
    return [
        f"2. Events through the aggregator: {_n(run.events)} events pre-published to `events` "
        f"(6 partitions), then AggregatorService started (max_records {a.max_records})",
        *_table(rows, indent=2),
        f"  target >= {_n(AGGREGATOR_TARGET)} events/s: {met}",
        f"  timed from the first batch's INSERT to the last one's: {len(run.batches)} batches "
        f"of {run.mean_batch:,.0f} events on average",
        f"  start-up, not in the rate: {run.startup_seconds:.1f} s from spawn to the first "
        "batch (imports, pool, consumer group joins, first fetch)",
        *_cpu_lines("while it drained", run.cpu),
        f"  check: {run.check}",
    ]


def _latency_section(lat: LatencyFigures) -> list[str]:
    p = lat.pipeline
    rows: list[Sequence[str]] = [
        ("", "p50 ms", "p99 ms", "max ms", "samples", "missing"),
        ("pixel 200 -> SSE client received", _ms(p.to_sse.ms(50)), _ms(p.to_sse.ms(99)),
         _ms(p.to_sse.ms(100)), _n(len(p.to_sse.values)), str(p.to_sse.missing)),
        ("pixel 200 -> asset-scores consumed", _ms(p.to_topic.ms(50)), _ms(p.to_topic.ms(99)),
         _ms(p.to_topic.ms(100)), _n(len(p.to_topic.values)), str(p.to_topic.missing)),
        ("bare: Kafka produce -> consume", _ms(lat.kafka.ms(50)), _ms(lat.kafka.ms(99)),
         _ms(lat.kafka.ms(100)), _n(len(lat.kafka.values)), str(lat.kafka.missing)),
        ("pixel request -> 200 (same run)", _ms(p.http.ms(50)), _ms(p.http.ms(99)),
         _ms(p.http.ms(100)), _n(len(p.http.values)), str(p.errors)),
    ]
    return [
        f"3. Latency at a steady {lat.rate:g} hits/s for {lat.seconds:g} s (sent at "
        f"{p.sent_rate:.0f}/s) over {LATENCY_ASSETS} assets of one type, each hit a new "
        "viewer; Kafka baseline at the same rate (target: SSE p99 <= 1000 ms at 500/s)",
        *_table(rows, indent=2),
        *_cpu_lines("while hits were sent", p.cpu),
        "  both probes read with aiokafka defaults (fetch_max_wait_ms=500); a broker that holds",
        "  a fetch until that wait ends (tansu does) adds up to that much per hop",
    ]


def _cpu_lines(when: str, usage: CpuUsage) -> list[str]:
    """Who used the cores, and a warning when someone else took a real share of them."""
    if not usage.percent:
        return []
    parts = ", ".join(f"{name} {_cpu(value)}" for name, value in usage.percent.items())
    lines = [f"  CPU {when} (% of one core): {parts}, other processes {_cpu(usage.other)}"]
    if usage.other is not None and usage.other > BUSY_MACHINE_PERCENT:
        lines.append("  WARNING: other processes used the machine during this measurement; "
                     "its figures are lower than an idle machine's")
    return lines


def machine_lines(infra_text: str, postgres_version: str) -> list[str]:
    """Where the figures came from: they mean little without the machine beside them."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    model = _cpu_model()
    versions = ", ".join(
        f"{name} {_version(name)}"
        for name in ("uvicorn", "fastapi", "faststream", "aiokafka", "asyncpg", "pydantic")
    )
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return [
        f"machine: nproc {cpus}{f', {model}' if model else ''}, {_memory()}, "
        f"{platform.system()} {platform.release()}",
        f"python:  {platform.python_implementation()} {platform.python_version()}; {versions}",
        f"server:  uvicorn loop={loop} http={http}, 1 worker per app",
        f"infra:   {infra_text}; PostgreSQL {postgres_version}",
        f"load:    {_loadavg()} (1/5/15-min load average when the run started)",
    ]


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB RAM"
    except OSError:
        pass
    return "RAM unknown"


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def _table(rows: Sequence[Sequence[str]], indent: int = 0) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        " " * indent + "  ".join(
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(r)
        ).rstrip()
        for r in rows
    ]


def _pct_ms(latencies: Sequence[float], pct: float) -> float | None:
    value = percentile(latencies, pct)
    return None if value is None else value * 1000.0


def _n(value: float) -> str:
    return f"{value:,.0f}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _cpu(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"


def _pct(part: float, whole: float) -> str:
    return f"{100.0 * part / whole:.0f}%" if whole else "-"


def _times(value: float | None, base: float | None) -> str:
    return f"{value / base:.1f}x" if value is not None and base else "-"
