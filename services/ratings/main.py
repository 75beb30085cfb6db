"""Composition root of the ratings app: middleware, one router per context, and /static."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware

from shared.files import make_file_store
from shared.observability import mount_ops
from shared.signing import derive_key
from shared.web.guards import RequestGuards

from .alerts.routes import router as alerts_router
from .analytics.routes import router as analytics_router
from .catalog.routes import router as catalog_router
from .files.routes import body_allowances
from .files.routes import router as files_router
from .identity.routes import router as identity_router
from .lifespan import make_lifespan
from .links.routes import router as links_router
from .rating.routes import router as rating_router
from .scores.routes import router as scores_router
from .settings import RatingsSettings
from .web.routes import router as web_router
from .web.routes import static_app

__all__ = ["create_app"]


def create_app(settings: RatingsSettings) -> FastAPI:
    app = FastAPI(title="Glassboard ratings", lifespan=make_lifespan(settings))
    # The cookie names a server-side session (identity/auth.py), signed with its sub-key.
    app.add_middleware(
        SessionMiddleware, secret_key=derive_key(settings.signing_secret.get_secret_value(),
                                                 "session"),
        session_cookie="gb_session", max_age=settings.session_max_age_seconds, same_site="lax",
        https_only=settings.secure_cookies,
    )
    # Around the session: size, Origin and NUL are refused before it or any route runs.
    # A file upload's body is the file: up to FILES_MAX_BYTES (PDF) or
    # FILES_MAX_VIDEO_BYTES (MP4) on that one path.
    app.add_middleware(RequestGuards, max_body_bytes=settings.ratings_max_body_bytes,
                       trusted_origins=[settings.ratings_base_url],
                       allowances=body_allowances(settings))
    app.state.files = make_file_store(settings)
    app.state.readiness = None
    mount_ops(app, settings, lambda: app.state.readiness)
    for router in (catalog_router, files_router, analytics_router, identity_router, rating_router,
                   scores_router, alerts_router, links_router, web_router):
        app.include_router(router)
    app.mount("/static", static_app, name="static")
    return app
