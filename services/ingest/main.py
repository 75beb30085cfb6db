"""Composition root of ingest: wires broker, catalog cache and salts into the HTTP app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from shared.db import create_pool
from shared.files import make_file_store
from shared.kafka import make_broker
from shared.observability import mount_ops, readiness
from shared.scanners import ScannerNetworks

from .catalog import CatalogCache
from .enrich import warm_up
from .keys import IngestKeys
from .pipeline import Pipeline
from .publisher import Publisher
from .rating_links import router as rating_links_router
from .routes import router
from .settings import IngestSettings
from .share_cache import ShareLinkCache
from .share_links import router as share_links_router
from .throttle import Throttle
from .viewer import router as viewer_router
from .visitors import DailySalts
from .web import STATIC

__all__ = ["create_app"]


def create_app(settings: IngestSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        warm_up()
        pool = await create_pool(settings.database_url, max_size=4)
        broker = make_broker(settings.kafka_bootstrap_servers, service="ingest", linger_ms=2)
        await broker.start()
        app.state.readiness = readiness(lambda: pool, broker)
        app.state.pool = pool
        app.state.files = make_file_store(settings)
        catalog = CatalogCache(pool, settings.catalog_refresh_seconds)
        await catalog.start()
        app.state.catalog = catalog
        share_links = ShareLinkCache(pool, settings.catalog_refresh_seconds)
        await share_links.start()
        app.state.share_links = share_links
        keys = IngestKeys(pool, settings.ingest_key_refresh_seconds)
        await keys.reload()
        keys.start()
        app.state.settings = settings
        app.state.keys = keys
        app.state.throttle = Throttle(settings)
        app.state.pipeline = Pipeline(
            catalog, DailySalts(pool), ScannerNetworks(settings.scanner_networks.split(",")),
            settings.share_scanner_seconds)
        app.state.publisher = publisher = Publisher(broker, settings.topics)
        try:
            yield
        finally:
            await keys.stop()
            await share_links.stop()
            await catalog.stop()
            await publisher.drain()
            await broker.stop()  # flushes the producer
            await pool.close()

    app = FastAPI(title="Glassboard ingest", lifespan=lifespan)
    app.state.readiness = None
    # Any page may embed the script and post beacons; no cookies are ever read, but for
    # /s/'s own first-party browser id (share_links.py), which no other origin can send.
    app.add_middleware(
        CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "HEAD", "POST"], allow_headers=["*"]
    )
    mount_ops(app, settings, lambda: app.state.readiness)
    app.include_router(router)
    app.include_router(rating_links_router)
    app.include_router(share_links_router)
    app.include_router(viewer_router)
    app.mount("/static", STATIC)  # the viewer's script and style, and the vendored pdf.js
    return app
