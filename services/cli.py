"""The ``glassboard`` command: one entry point for every service and for ops tasks."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
from pathlib import Path
from typing import Any

from shared.settings import ServiceSettings, load_settings

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="glassboard", description=__doc__)
    parser.add_argument("--log-file", type=Path, metavar="FILE",
                        help="also append every log line to FILE; stderr then keeps only "
                        "Glassboard's own lines and every warning (glassboard dev sets it)")
    sub = parser.add_subparsers(dest="command", required=True)
    dev = sub.add_parser("dev", help="run the whole stack on this machine")
    dev.add_argument("--demo", action="store_true", help="load sample assets and traffic")
    for name, text in (
        ("ingest", "the HTTP edge: pixel, script, downloads, batch API"),
        ("ratings", "the app: catalog, usage and score APIs"),
        ("aggregator", "consumer group that keeps per-asset usage in PostgreSQL"),
        ("notifier", "consumer group that alerts owners on score drops"),
    ):
        sub.add_parser(name, help=f"run {text}")
    sub.add_parser("migrate", help="apply pending database migrations")
    sub.add_parser("topics", help="create missing Kafka topics")
    assets = sub.add_parser("assets", help="manage the asset catalog")
    assets_sub = assets.add_subparsers(dest="assets_command", required=True)
    imp = assets_sub.add_parser("import", help="insert or update assets from a CSV file")
    imp.add_argument("file", type=Path, help="CSV with columns id,title,type,url,owner_email")
    users = sub.add_parser("users", help="manage people and their roles")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    add = users_sub.add_parser("add", help="add a user, or change an existing user's role")
    add.add_argument("email")
    add.add_argument("--role", required=True,
                     choices=["sales", "marketing", "executive", "manager", "admin"])
    add.add_argument("--name", default="")
    add.add_argument("--token", action="store_true", help="also print a new API token")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "dev":
        try:
            from devtools.dev import run_dev
        except ModuleNotFoundError as exc:
            if exc.name != "devtools":
                raise
            print("glassboard dev runs from a source checkout (pip install -e .): the "
                  "devtools package is not installed here", file=sys.stderr)
            return 2
        return run_dev(demo=args.demo)

    settings = _settings(args.command)
    from shared.observability import configure_logging
    from shared.runner import run_http, run_service

    configure_logging(settings.log_level, settings.log_format, log_file=args.log_file)
    if args.command == "ingest":
        from .ingest.main import create_app

        run_http(create_app(settings), settings.ingest_host, settings.ingest_port)
    elif args.command == "ratings":
        from .ratings.main import create_app as create_ratings_app

        run_http(create_ratings_app(settings), settings.ratings_host, settings.ratings_port)
    elif args.command == "aggregator":
        from .aggregator.main import AggregatorService

        run_service(AggregatorService(settings))
    elif args.command == "notifier":
        from .notifier.main import NotifierService

        run_service(NotifierService(settings))
    elif args.command == "migrate":
        from shared.migrate import apply_migrations

        applied = asyncio.run(apply_migrations(settings.database_url))
        print(f"applied: {', '.join(applied) or 'nothing pending'}")
    elif args.command == "topics":
        from shared.kafka import create_topics

        created = asyncio.run(
            create_topics(settings.kafka_bootstrap_servers, settings.topics.all)
        )
        print(f"created: {', '.join(created) or 'all topics exist'}")
    elif args.command == "assets":
        return _import_assets(settings, args.file)
    elif args.command == "users":
        return _add_user(settings, args.email, args.role, args.name, args.token)
    return 0


#: Each service's own settings class, imported only for that command.
SERVICE_SETTINGS = {
    "ingest": ("services.ingest.settings", "IngestSettings", "ingest service"),
    "ratings": ("services.ratings.settings", "RatingsSettings", "ratings app"),
    "aggregator": ("services.aggregator.settings", "AggregatorSettings", "aggregator"),
    "notifier": ("services.notifier.settings", "NotifierSettings", "notifier"),
}


def _settings(command: str) -> Any:
    """The command's own settings class (the ops commands need only the shared base)."""
    if command not in SERVICE_SETTINGS:
        return load_settings(ServiceSettings, f"glassboard {command}")
    module, name, service = SERVICE_SETTINGS[command]
    return load_settings(getattr(importlib.import_module(module), name), service)


def _add_user(settings: ServiceSettings, email: str, role: str, name: str, with_token: bool) -> int:
    import re

    from shared.db import create_pool

    from .ratings.identity.models import Role
    from .ratings.identity.store import add_user, create_token

    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        print(f"not an email address: {email!r}", file=sys.stderr)
        return 2

    async def run() -> None:
        pool = await create_pool(settings.database_url, max_size=1)
        try:
            user = await add_user(pool, email, Role(role), name)
            print(f"user {user.email} (id {user.id}) is {user.role.value}")
            if with_token:
                print(f"API token (shown once): {await create_token(pool, user, 'cli')}")
        finally:
            await pool.close()

    asyncio.run(run())
    return 0


def _import_assets(settings: ServiceSettings, path: Path) -> int:
    from shared.db import create_pool

    from .ratings.catalog.csv_import import parse_assets_csv
    from .ratings.catalog.models import CatalogRefusal
    from .ratings.catalog.store import upsert_assets

    async def load() -> tuple[int, int]:
        pool = await create_pool(settings.database_url, max_size=1)
        try:
            return await upsert_assets(pool, assets)
        finally:
            await pool.close()

    # All or nothing: rows that are not assets, owners who are not users (an import never
    # creates an account) or ids of deleted assets refuse the whole file.
    try:
        assets = parse_assets_csv(path.read_text(encoding="utf-8-sig"))
        inserted, updated = asyncio.run(load())
    except CatalogRefusal as exc:
        for error in exc.errors:
            print(f"{path}: {error}", file=sys.stderr)
        return 2
    print(f"{path}: {inserted} assets added, {updated} updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
