"""Composition root of the ratings app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware

from shared.db import create_pool
from shared.kafka import make_broker
from shared.observability import LagReporter, ops_routes, readiness
from shared.settings import Settings

from .auth import MagicLinks
from .commands import subscribe_rating_commands
from .mailer import make_mailer
from .outbox import OutboxRelay
from .pages import router as pages_router
from .pages_board import router as board_pages_router
from .routes import router
from .routes_alerts import router as alerts_router
from .routes_alerts_page import router as alerts_page_router
from .routes_asset_detail import router as asset_detail_router
from .routes_auth import router as auth_router
from .routes_board_api import router as board_api_router
from .routes_links import router as links_router
from .routes_ratings import router as ratings_router
from .routes_scores import router as scores_router
from .score_feed import ScoreHub
from .static_assets import router as static_router

__all__ = ["create_app"]

SESSION_MAX_AGE_SECONDS = 30 * 24 * 3600  # a month: sales should not sign in every day


def create_app(settings: Settings) -> FastAPI:
    secret = settings.signing_secret.get_secret_value()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await create_pool(settings.database_url, max_size=8)
        broker = make_broker(settings.kafka_bootstrap_servers, service="ratings", linger_ms=1)
        app.state.outbox = OutboxRelay(app.state.pool, broker, settings.topics.events.name)
        # Subscribers must be registered before the broker starts.
        subscribe_rating_commands(broker, settings.topics, app.state.pool, app.state.outbox)
        app.state.score_hub = ScoreHub()
        app.state.score_hub.listen(broker, settings.topics)
        await broker.start()
        # After the reader is positioned at the topic's end: together they miss nothing.
        await app.state.score_hub.catch_up(app.state.pool)
        app.state.score_hub.start_polling(app.state.pool)
        app.state.outbox.start()
        app.state.readiness = readiness(lambda: app.state.pool, broker)
        lag = LagReporter(broker)
        lag.start()
        app.state.settings = settings
        app.state.public_url = settings.ratings_base_url
        app.state.magic_links = MagicLinks(secret)
        # SMTP when SMTP_HOST is set; else printed in development, 503 in production.
        app.state.mailer = make_mailer(settings)
        try:
            yield
        finally:
            await lag.stop()
            await app.state.outbox.stop()
            await app.state.score_hub.stop()
            await broker.stop()
            await app.state.pool.close()

    app = FastAPI(title="Glassboard ratings", lifespan=lifespan)
    app.add_middleware(
        SessionMiddleware, secret_key=secret, session_cookie="gb_session",
        max_age=SESSION_MAX_AGE_SECONDS, same_site="lax", https_only=settings.secure_cookies,
    )
    app.state.readiness = None
    app.include_router(ops_routes(lambda: app.state.readiness))
    app.include_router(router)
    app.include_router(auth_router)
    app.include_router(ratings_router)
    app.include_router(links_router)
    app.include_router(scores_router)
    app.include_router(board_api_router)
    app.include_router(asset_detail_router)
    app.include_router(pages_router)
    app.include_router(board_pages_router)
    app.include_router(static_router)
    app.include_router(alerts_router)
    app.include_router(alerts_page_router)
    return app
