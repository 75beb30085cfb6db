"""Composition root of the ratings app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import make_asgi_app

from shared.db import create_pool
from shared.settings import Settings

from .routes import router

__all__ = ["create_app"]


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await create_pool(settings.database_url, max_size=8)
        app.state.settings = settings
        try:
            yield
        finally:
            await app.state.pool.close()

    app = FastAPI(title="Glassboard ratings", lifespan=lifespan)
    app.include_router(router)
    app.mount("/metrics", make_asgi_app())
    return app
