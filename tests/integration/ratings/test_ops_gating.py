"""OPS_ACCESS on the ratings app, started in production mode on the real stack: /metrics
and the API docs are off the public port by default, or behind OPS_TOKEN; the AsyncAPI
document never names the brokers in production."""

from __future__ import annotations

import json

import httpx

from harness.modes import (
    OPS_TOKEN,
    assert_private,
    assert_token_gate,
    ops_statuses,
    production_server,
)
from harness.stack import RunningServer, Stack
from services.ratings.main import create_app


async def _start(stack: Stack, **overrides: str) -> RunningServer:
    return await production_server(stack, create_app, "ratings_port", **overrides)


async def test_production_keeps_metrics_and_docs_off_the_public_port(stack: Stack) -> None:
    await assert_private(await _start(stack), "Glassboard ratings")


async def test_ops_token_gates_metrics_and_docs_on_the_public_port(stack: Stack) -> None:
    server = await _start(stack, ops_access="token", ops_token=OPS_TOKEN)
    await assert_token_gate(server.url, OPS_TOKEN)


async def test_development_serves_them_to_anyone(stack: Stack) -> None:
    server = await stack.ratings()
    assert set((await ops_statuses(server.url)).values()) == {200}


async def test_the_asyncapi_document_names_no_broker_in_production(stack: Stack) -> None:
    brokers = stack.settings.kafka_bootstrap_servers
    development = await stack.ratings()
    async with httpx.AsyncClient(base_url=development.url) as client:
        assert brokers in (await client.get("/asyncapi.json")).text
    await stack.stop(development)
    server = await _start(stack)
    async with httpx.AsyncClient(base_url=server.url) as client:
        answer = await client.get("/asyncapi.json")
    assert answer.status_code == 200
    hosts = {address.rpartition(":")[0] for address in brokers.split(",")}
    assert not any(host in answer.text for host in hosts | {brokers}), "a broker address leaked"
    document = json.loads(answer.text)
    assert "servers" not in document
    channel = f"{stack.settings.topic_prefix}asset-scores"
    assert channel in document["channels"] and "servers" not in document["channels"][channel]
    assert "AssetScoreUpdate" in document["components"]["schemas"]
