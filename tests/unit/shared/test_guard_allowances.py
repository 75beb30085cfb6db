"""shared/web/guards BodyAllowance (pure, no stack): one method and path gets its own body
limit and binary bodies; every other request keeps max_body_bytes and the NUL check."""

from __future__ import annotations

import httpx
from fastapi import FastAPI, Request

from shared.web.guards import BodyAllowance, RequestGuards


def _client() -> httpx.AsyncClient:
    app = FastAPI()

    @app.post("/v1/assets/{asset_id}/files")
    @app.put("/v1/assets/{asset_id}/files")
    @app.post("/v1/assets/{asset_id}/files/more")
    async def echo(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    app.add_middleware(RequestGuards, max_body_bytes=100, allowances=[
        BodyAllowance("POST", r"/v1/assets/[^/]+/files", 1_000)])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://app.test")


async def test_the_allowed_path_takes_bodies_up_to_its_own_limit_nul_and_all() -> None:
    async with _client() as client:
        r = await client.post("/v1/assets/deck/files", content=b"\x00" * 1_000)
        assert r.status_code == 200 and r.json() == {"bytes": 1_000}
        r = await client.post("/v1/assets/deck/files", content=b"x" * 1_001)
        assert r.status_code == 413 and r.json() == {"detail": "body larger than 1000 bytes"}

        async def chunks() -> object:
            for _ in range(11):
                yield b"x" * 100

        r = await client.post("/v1/assets/deck/files", content=chunks())  # type: ignore[arg-type]
        assert r.status_code == 413


async def test_other_methods_and_paths_keep_the_default_limit_and_the_nul_check() -> None:
    async with _client() as client:
        for method, path in (("PUT", "/v1/assets/deck/files"),
                             ("POST", "/v1/assets/deck/files/more"),
                             ("POST", "/v1/assets/a/b/files")):
            r = await client.request(method, path, content=b"x" * 101)
            assert r.status_code == 413, (method, path)
            assert r.json() == {"detail": "body larger than 100 bytes"}
        r = await client.put("/v1/assets/deck/files", content=b"\x00")
        assert r.status_code == 422 and "NUL" in r.json()["detail"]


async def test_an_allowance_for_a_media_type_cuts_each_kind_at_its_own_limit() -> None:
    app = FastAPI()

    @app.post("/v1/assets/{asset_id}/files")
    async def echo(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    app.add_middleware(RequestGuards, max_body_bytes=100, allowances=[
        BodyAllowance("POST", r"/v1/assets/[^/]+/files", 1_000, "application/pdf"),
        BodyAllowance("POST", r"/v1/assets/[^/]+/files", 5_000, "video/mp4")])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app),
                                 base_url="http://app.test") as client:
        async def post(content_type: str, size: int) -> httpx.Response:
            return await client.post("/v1/assets/deck/files", content=b"x" * size,
                                     headers={"content-type": content_type})

        assert (await post("application/pdf", 1_000)).status_code == 200
        assert (await post("Application/PDF; x=1", 1_001)).status_code == 413
        assert (await post("video/mp4", 5_000)).status_code == 200
        assert (await post("video/mp4", 5_001)).status_code == 413
        # Any other media type keeps the default: a large body is cut before the route.
        refused = await post("text/plain", 101)
        assert refused.status_code == 413
        assert refused.json() == {"detail": "body larger than 100 bytes"}
