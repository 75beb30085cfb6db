"""``python -m bench``: run every phase, print each figure beside its bare limit.

Phases run one after another (never concurrently) so that each has the machine to itself;
each gets a fresh database and topic prefix. Everything started is stopped on the way out,
including on Ctrl-C, SIGTERM or an error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import asyncpg

from shared.embedded import free_port
from shared.kafka import create_topics
from shared.topics import TopicSpec

from . import bare
from .aggregator_bench import profile_summary, run_aggregator
from .cpu import Probe, base_probes
from .http_bench import run_http
from .infra import Infra, infrastructure
from .latency import latency_assets, pipeline_latency
from .procs import Children
from .report import AggregatorFigures, LatencyFigures, Report, machine_lines
from .workload import asset_ids, generate_events

PHASES = ("http", "aggregator", "latency", "bots", "office")


@dataclass(frozen=True)
class Options:
    events: int
    seconds: float
    warmup: float
    connections: int
    rate: float
    assets: int
    phases: tuple[str, ...]
    profile: Path | None
    quick: bool = False


def _parse(argv: list[str] | None) -> tuple[Options, str]:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="small sizes: the whole run in under a minute")
    parser.add_argument("--events", type=int, help="events for the aggregator (100000)")
    parser.add_argument("--seconds", type=float,
                        help="length of each HTTP and latency measurement (10)")
    parser.add_argument("--connections", type=int, default=32,
                        help="keep-alive connections of the HTTP load generator")
    parser.add_argument("--rate", type=float, default=500.0,
                        help="hits/s of the latency measurement")
    parser.add_argument("--assets", type=int, default=50, help="assets the traffic spreads over")
    parser.add_argument("--phases", default=",".join(PHASES),
                        help=f"comma-separated subset of {','.join(PHASES)}")
    parser.add_argument("--profile", type=Path, metavar="FILE",
                        help="run the aggregator under cProfile, dump to FILE, print top functions")
    args = parser.parse_args(argv)
    phases = tuple(p.strip() for p in args.phases.split(",") if p.strip())
    unknown = set(phases) - set(PHASES)
    if unknown:
        parser.error(f"unknown phases: {', '.join(sorted(unknown))}")
    options = Options(
        events=args.events or (20_000 if args.quick else 100_000),
        seconds=args.seconds or (3.0 if args.quick else 10.0),
        warmup=0.5 if args.quick else 1.0,
        connections=args.connections,
        rate=args.rate,
        assets=args.assets,
        phases=phases,
        profile=args.profile.resolve() if args.profile else None,
        quick=args.quick,
    )
    command = " ".join(["python -m bench", *(argv if argv is not None else sys.argv[1:])])
    return options, command


def _progress(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def _probes(infra: Infra) -> dict[str, Probe]:
    return base_probes(infra.broker_pid, infra.postgres_data_dir)


async def _http_phase(infra: Infra, children: Children, o: Options, report: Report) -> None:
    assets = asset_ids(o.assets)
    settings = await infra.stack("http", assets)
    hello = settings.model_copy(update={"ingest_port": free_port()})
    _progress(f"pixel: hello app, then ingest, {o.seconds:g} s each")
    report.http = await run_http(hello, settings, children, assets=assets,
                                 connections=o.connections, seconds=o.seconds, warmup=o.warmup,
                                 probes=_probes(infra))


async def _aggregator_phase(infra: Infra, children: Children, o: Options, report: Report) -> None:
    assets = asset_ids(o.assets)
    settings = await infra.stack("aggregator", assets)
    _progress(f"aggregator: generating {o.events:,} events")
    events = generate_events(o.events, assets)
    bootstrap, topic = settings.kafka_bootstrap_servers, settings.topics.events
    _progress("aggregator: raw produce (pre-publishing), raw consume, decode")
    produce = await bare.produce(bootstrap, topic.name, events.messages)
    consume = await bare.consume(bootstrap, topic, o.events, settings.aggregator_max_records)
    decode = bare.decode_payloads(events.messages)
    _progress("aggregator: AggregatorService draining the topic")
    run = await run_aggregator(settings, children, o.events, probes=_probes(infra),
                               profile_to=o.profile)
    _progress("aggregator: raw COPY")
    copy = await bare.copy_rows(settings.database_url, events.rows())
    report.aggregator = AggregatorFigures(run, produce, consume, decode, copy,
                                          settings.aggregator_max_records)


async def _latency_phase(infra: Infra, children: Children, o: Options, report: Report) -> None:
    settings = await infra.stack("latency", latency_assets())
    settings = settings.model_copy(update={"ratings_port": free_port()})
    _progress(f"latency: {o.rate:g} pixel hits/s for {o.seconds:g} s, hit -> topic and SSE")
    pipeline = await pipeline_latency(settings, children, rate=o.rate, seconds=o.seconds,
                                      workdir=infra.workdir, probes=_probes(infra))
    spec = TopicSpec(f"bench-{infra.run_id}-roundtrip", 6)
    await create_topics(infra.bootstrap_servers, (spec,))
    infra.remember_topic(spec.name)
    _progress(f"latency: bare Kafka round trip, {o.rate:g}/s for {o.seconds:g} s")
    kafka = await bare.kafka_round_trip(infra.bootstrap_servers, spec, rate=o.rate,
                                        seconds=o.seconds)
    report.latency = LatencyFigures(pipeline, kafka, o.rate, o.seconds)


async def _bots_phase(infra: Infra, children: Children, o: Options, report: Report) -> None:
    from services.ingest.enrich import classify

    from .bot_set import labelled_user_agents, measure

    items = labelled_user_agents()
    if o.quick:
        items = items[::4]  # a quarter, evenly spread: the full set parses in ~75 s
    _progress(f"bots: classifying {len(items):,} labelled User-Agents")
    report.bots = await asyncio.to_thread(measure, classify, items)


async def _office_phase(infra: Infra, children: Children, o: Options, report: Report) -> None:
    from .office_nat import OFFICE_ASSETS, OFFICE_PEOPLE, office_peak

    assets = asset_ids(OFFICE_ASSETS, prefix="office")
    settings = await infra.stack("office", assets)
    _progress(f"office: {OFFICE_PEOPLE} people behind one NAT, their peak minute at once")
    report.office = await office_peak(settings, children, assets)


async def _postgres_version(dsn: str) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


async def _run(infra: Infra, o: Options, report: Report) -> None:
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, task.cancel)  # type: ignore[union-attr]
    children = Children(infra.workdir)
    try:
        report.machine = machine_lines(infra.description, await _postgres_version(infra.admin_dsn))
        phases = {"http": _http_phase, "aggregator": _aggregator_phase,
                  "latency": _latency_phase, "bots": _bots_phase,
                  "office": _office_phase}
        for name in o.phases:
            await phases[name](infra, children, o, report)
    finally:
        children.stop_all()
        await asyncio.shield(infra.cleanup())


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    options, command = _parse(argv)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)  # the same clean-up as Ctrl-C, outside the loop too
    report = Report(
        started=datetime.now(timezone.utc),
        command=command,
        machine=[],
        sizes=(f"sizes:   pixel {options.seconds:g} s x {options.connections} connections "
               f"(+{options.warmup:g} s warm-up); aggregator {options.events:,} events over "
               f"{options.assets} assets; latency {options.rate:g} hits/s for "
               f"{options.seconds:g} s"),
    )
    _progress("starting PostgreSQL and Kafka")
    try:
        with infrastructure() as infra:
            try:
                asyncio.run(_run(infra, options, report))
            finally:
                for sig in (signal.SIGTERM, signal.SIGHUP):
                    signal.signal(sig, _interrupt)  # asyncio.run reset them to the default
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted: everything the bench started has been stopped", file=sys.stderr)
        return 130
    print(report.render())
    if options.profile is not None:
        print(f"\nAggregator profile ({options.profile}), top functions by own time:")
        print(profile_summary(options.profile))
    return 0


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
