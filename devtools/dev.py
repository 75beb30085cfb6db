"""``glassboard dev``: the whole stack on one machine.

Without KAFKA_BOOTSTRAP_SERVERS and DATABASE_URL it starts the embedded PostgreSQL (data
under ./.glassboard/) and the tansu broker (memory storage), creates the topics, migrates,
then runs the four services as child processes. Ctrl-C stops everything it started.

The console shows Glassboard's own log lines and every warning; the other libraries' INFO
lines (aiokafka's group joins, uvicorn's start-up) go to ./.glassboard/dev.log, which
also holds every line of this run, in order.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from aiosmtpd.controller import Controller

from devtools.settings import StackSettings
from shared.embedded import EmbeddedBroker, EmbeddedPostgres, free_port
from shared.kafka import create_topics
from shared.migrate import apply_migrations
from shared.observability import configure_logging

from .mail_sink import MailSink

__all__ = ["run_dev"]

SERVICES = ("ingest", "ratings", "aggregator", "notifier")


def _embed_snippet(ingest_url: str, asset_id: str = "ASSET_ID") -> str:
    """One of the first two per place, never both: each sends a view."""
    return (
        f'  on a web page:  <script async src="{ingest_url}/t.js" data-asset="{asset_id}"></script>\n'
        f'  in an email:    <img src="{ingest_url}/px.gif?asset={asset_id}" width="1" height="1" alt="">\n'
        f'  download link:  <a href="{ingest_url}/d/{asset_id}">Download</a>'
    )


def _wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _start_log_file(workdir: Path, env: dict[str, str]) -> Path:
    """A fresh log file per run, shared by this process and the services it starts."""
    workdir.mkdir(parents=True, exist_ok=True)
    log_file = (workdir / "dev.log").resolve()
    log_file.write_bytes(b"")
    configure_logging(env.get("LOG_LEVEL", "INFO"), env["LOG_FORMAT"], log_file=log_file)
    print(f"log file: {workdir / 'dev.log'} (every line; this console keeps Glassboard's "
          "own lines and every warning)")
    return log_file


def run_dev(demo: bool, workdir: Path = Path(".glassboard")) -> int:
    # SIGTERM and SIGHUP (a closed terminal) clean up exactly like Ctrl-C.
    # Set SIGINT explicitly too: a shell script starting us in the background leaves
    # SIGINT ignored, and then Ctrl-C or kill -INT would do nothing.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)
    env = dict(os.environ)
    env.setdefault("LOG_FORMAT", "text")  # a terminal, not a log shipper
    log_file = _start_log_file(workdir, env)
    broker: EmbeddedBroker | None = None
    postgres: EmbeddedPostgres | None = None
    sink: Controller | None = None
    children: list[subprocess.Popen[bytes]] = []
    try:
        if not env.get("KAFKA_BOOTSTRAP_SERVERS"):
            broker = EmbeddedBroker().start()
            env["KAFKA_BOOTSTRAP_SERVERS"] = broker.bootstrap_servers
            print(f"tansu broker (memory storage) on {broker.bootstrap_servers}")
        if not env.get("SMTP_HOST"):
            # Alert emails and sign-in links go over real SMTP into a local sink that
            # prints each one here (and keeps it as .eml for a mail client).
            sink = Controller(MailSink(workdir.resolve() / "mail", echo=True),
                              hostname="127.0.0.1", port=free_port())
            sink.start()
            env.update(SMTP_HOST="127.0.0.1", SMTP_PORT=str(sink.port))
            print(f"SMTP sink on 127.0.0.1:{sink.port}: mail is printed here and kept in "
                  f"{workdir / 'mail'}/")
        if not env.get("DATABASE_URL"):
            postgres = EmbeddedPostgres(workdir.resolve() / "pg").start()
            env["DATABASE_URL"] = asyncio.run(postgres.create_database())
            print(f"embedded PostgreSQL, data in {postgres.data_dir}")
        settings = StackSettings.model_validate(env)
        asyncio.run(create_topics(settings.kafka_bootstrap_servers, settings.topics.all))
        applied = asyncio.run(apply_migrations(settings.database_url))
        print(f"migrations applied: {', '.join(applied) or 'none pending'}")

        # The consumers serve /metrics, /healthz and /readyz on a port of their own.
        ops_ports = {name: free_port() for name in ("aggregator", "notifier")}
        for name in SERVICES:
            child_env = {**env, "METRICS_PORT": str(ops_ports[name])} if name in ops_ports else env
            command = [sys.executable, "-m", "services.cli", "--log-file", str(log_file), name]
            children.append(subprocess.Popen(command, env=child_env, start_new_session=True))
        ingest_url = settings.ingest_base_url
        ratings_url = f"http://{settings.ratings_host}:{settings.ratings_port}"
        _wait_http(f"{ingest_url}/healthz")
        _wait_http(f"{ratings_url}/healthz")
        if demo:
            from .demo import load_demo

            asyncio.run(load_demo(settings, ingest_url))
        print(
            "\nGlassboard is running. Ctrl-C stops everything.\n"
            f"  ingest   {ingest_url}   (pixel /px.gif, script /t.js, downloads /d/ID, API /v1/events)\n"
            f"  ratings  {ratings_url}   (scoreboard {ratings_url}/, phone app "
            f"{ratings_url}/app/, API docs {ratings_url}/docs)\n"
            f"  metrics  {ingest_url}/metrics, {ratings_url}/metrics, "
            + ", ".join(f"http://127.0.0.1:{port}/metrics ({name})"
                        for name, port in ops_ports.items()) + "\n"
            f"\nEmbed (script on pages, pixel in emails):\n{_embed_snippet(ingest_url)}\n"
        )
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        failed = [name for name, c in zip(SERVICES, children) if c.poll() is not None]
        print(f"service(s) exited: {', '.join(failed)}; stopping", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping...")
        return 0
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)  # a second signal must not skip cleanup
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(12)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        if sink:
            sink.stop()
        if broker:
            broker.stop()
        if postgres:
            postgres.stop()
