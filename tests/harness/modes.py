"""Services in production mode, and what their ops endpoints answer, for the tests of
OPS_ACCESS (shared/observability.py) on both HTTP services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from devtools.settings import StackSettings
from shared.embedded import free_port

from .stack import RunningServer, Stack

__all__ = [
    "OPS_TOKEN",
    "PROBED",
    "STRONG_SECRET",
    "assert_private",
    "assert_token_gate",
    "ops_statuses",
    "production",
    "production_server",
]

#: What an operator generates (`openssl rand -hex 32`): production accepts it.
STRONG_SECRET = "4c1f0e9d8b7a69584736251403f2e1d0c9b8a7968574635241302f1e0d9c8b7a"
OPS_TOKEN = "0e1d2c3b4a5968778695a4b3c2d1e0f0123456789abcdef0fedcba9876543210"
#: The paths OPS_ACCESS governs, as a client asks for them.
PROBED = ("/metrics", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json")


def production(settings: StackSettings, **overrides: Any) -> StackSettings:
    """The test's stack settings in production mode, validated as a service would be, with
    a strong signing secret and an ops port of its own."""
    values = {**settings.model_dump(), "env": "production", "signing_secret": STRONG_SECRET,
              "metrics_port": free_port(), **overrides}
    return StackSettings.model_validate(values)


async def production_server(stack: Stack, create_app: Callable[[Any], Any], port_field: str,
                            **overrides: Any) -> RunningServer:
    """``create_app`` (ingest's or ratings') in production mode on its port, stopped with
    the stack."""
    settings = production(stack.settings, **overrides)
    server = await RunningServer(create_app(settings), getattr(settings, port_field)).start()
    stack.running.append(server)
    return server


async def ops_statuses(base_url: str, **headers: str) -> dict[str, int]:
    async with httpx.AsyncClient(base_url=base_url, headers=headers) as client:
        return {path: (await client.get(path)).status_code for path in PROBED}


async def assert_private(server: RunningServer, title: str) -> None:
    """The public port answers 404 for the metrics and the docs, as for a path that does not
    exist, and keeps the probes; the ops port serves them, for the app called ``title``."""
    assert await ops_statuses(server.url) == dict.fromkeys(PROBED, 404)
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert (await client.get("/metrics")).json() == {"detail": "Not Found"}
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/readyz")).status_code == 200
    ops_url = f"http://127.0.0.1:{server.app.state.settings.metrics_port}"
    async with httpx.AsyncClient(base_url=ops_url) as client:
        metrics = await client.get("/metrics")
        assert metrics.status_code == 200 and "glassboard_" in metrics.text
        assert (await client.get("/openapi.json")).json()["info"]["title"] == title
        for page in ("/docs", "/redoc"):
            answer = await client.get(page)
            assert answer.status_code == 200 and "/openapi.json" in answer.text, page
        assert (await client.get("/readyz")).status_code == 200


async def assert_token_gate(base_url: str, token: str) -> None:
    """401 with a Bearer challenge unless the request carries exactly this token."""
    for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": token},
                    {"authorization": f"Basic {token}"},
                    {"authorization": f"Bearer {token[:-1]}"}):
        assert await ops_statuses(base_url, **headers) == dict.fromkeys(PROBED, 401), headers
    async with httpx.AsyncClient(base_url=base_url) as client:
        refused = await client.get("/metrics", params={"token": token})
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    granted = await ops_statuses(base_url, authorization=f"Bearer {token}")
    assert set(granted.values()) == {200}, granted
    assert set((await ops_statuses(base_url, authorization=f"bearer {token}")).values()) == {200}
