"""What the ratings app holds while it runs: the pool, the broker with its subscribers, the
outbox relay, the score and link-visit hubs, the lag reporter, magic links, the mailer, and
the sign-in limits and link sender. Start order matters and is written once here; stop runs
in reverse."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI

from shared.db import create_pool
from shared.kafka import group_options, make_broker
from shared.observability import LagReporter, readiness
from shared.signing import derive_key

from .identity.magic_links import MagicLinks
from .identity.mailer import make_mailer
from .identity.sign_in_requests import LinkSender, SignInLimits
from .links.hub import LinkHub
from .rating.commands import subscribe_rating_commands
from .rating.outbox import OutboxRelay
from .scores.hub import ScoreHub
from .settings import RatingsSettings

__all__ = ["make_lifespan"]


def make_lifespan(settings: RatingsSettings) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await create_pool(settings.database_url, max_size=8)
        broker = make_broker(settings.kafka_bootstrap_servers, service="ratings", linger_ms=1)
        app.state.outbox = OutboxRelay(app.state.pool, broker, settings.topics.events.name)
        # Subscribers must be registered before the broker starts.
        subscribe_rating_commands(broker, settings.topics, app.state.pool, app.state.outbox,
                                  group_options(settings.kafka_session_timeout_ms),
                                  signing_secret=settings.signing_secret.get_secret_value())
        app.state.score_hub = ScoreHub()
        app.state.score_hub.listen(broker, settings.topics)
        app.state.link_hub = LinkHub()
        app.state.link_hub.listen(broker, settings.topics)
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
        app.state.magic_links = MagicLinks(
            derive_key(settings.signing_secret.get_secret_value(), "magic-link"))
        # SMTP when SMTP_HOST is set; else printed in development, 503 in production.
        app.state.mailer = make_mailer(settings)
        app.state.sign_in_limits = SignInLimits(
            per_address=settings.sign_in_rate_limit_address,
            per_address_total=settings.sign_in_rate_limit_address_total,
            per_client=settings.sign_in_rate_limit_client,
            storage_uri=settings.sign_in_rate_limit_storage_uri, links=app.state.magic_links)
        app.state.link_sender = LinkSender(app.state.pool, app.state.mailer,
                                           app.state.magic_links, settings.ratings_base_url)
        try:
            yield
        finally:
            await app.state.link_sender.stop()
            await lag.stop()
            await app.state.outbox.stop()
            await app.state.score_hub.stop()
            await broker.stop()
            await app.state.pool.close()

    return lifespan
