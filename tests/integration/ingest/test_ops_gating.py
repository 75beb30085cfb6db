"""OPS_ACCESS on ingest, started in production mode on the real stack: /metrics and the
API docs are off the public port by default (served on the ops port), or behind
OPS_TOKEN; development serves them to anyone."""

from __future__ import annotations

import httpx

from harness.modes import (
    OPS_TOKEN,
    assert_private,
    assert_token_gate,
    ops_statuses,
    production_server,
)
from harness.stack import RunningServer, Stack
from services.ingest.main import create_app


async def _start(stack: Stack, **overrides: str) -> RunningServer:
    return await production_server(stack, create_app, "ingest_port", **overrides)


async def test_development_serves_them_to_anyone(stack: Stack) -> None:
    server = await stack.ingest()
    assert set((await ops_statuses(server.url)).values()) == {200}


async def test_production_keeps_metrics_and_docs_off_the_public_port(stack: Stack) -> None:
    server = await _start(stack)
    await assert_private(server, "Glassboard ingest")
    async with httpx.AsyncClient(base_url=server.url) as client:  # the edge still works
        assert (await client.get("/px.gif", params={"asset": "x"})).status_code == 200


async def test_ops_token_gates_metrics_and_docs_but_not_the_edge(stack: Stack) -> None:
    server = await _start(stack, ops_access="token", ops_token=OPS_TOKEN)
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert (await client.get("/t.js")).status_code == 200
    await assert_token_gate(server.url, OPS_TOKEN)
