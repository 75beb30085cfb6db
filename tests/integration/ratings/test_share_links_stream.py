"""The live feed of share-link visits (SSE): a LinkVisitUpdate on the link-visits topic
reaches the streams of the link's creator, their manager and admins, and no one else's."""

from __future__ import annotations

import contextlib
from datetime import datetime, timezone

import httpx

from harness.sse import SseStream, open_stream
from harness.stack import Stack
from shared.kafka import make_broker, publish_keyed
from shared.share_links import LinkVisitUpdate, new_link_id

STREAM = "/v1/share-links/stream"


def update(link_id: str, creator_id: int, engaged_ms: int) -> LinkVisitUpdate:
    now = datetime.now(timezone.utc)
    return LinkVisitUpdate(link_id=link_id, event_id="6f1c0f6e-2f43-4b83-9d7c-2a3c3c2b1a00",
                           asset_id="case-study", creator_id=creator_id, opened_at=now,
                           first_open=True, forwarded=False, device_class="phone",
                           engaged_ms=engaged_ms, updated_at=now)


async def test_a_visit_reaches_only_the_streams_allowed_to_see_its_link(stack: Stack) -> None:
    await stack.ratings()
    people = {}
    for who, role in (("rep", "sales"), ("rep2", "sales"), ("boss", "manager"),
                      ("admin", "admin")):
        people[who] = await stack.user(f"{who}@example.com", role)
    clients = {who: stack.client_for(token) for who, (_, token) in people.items()}
    rep_id, boss_id = people["rep"][0], people["boss"][0]
    put = await clients["admin"].put(f"/v1/users/{rep_id}/manager", json={"manager_id": boss_id})
    assert put.status_code == 200, put.text
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{stack.settings.ratings_port}") \
            as anonymous:
        assert (await anonymous.get(STREAM)).status_code == 401
    broker = make_broker(stack.settings.kafka_bootstrap_servers)
    await broker.start()
    link_id = new_link_id()
    topic = stack.settings.topics.link_visits.name
    try:
        async with contextlib.AsyncExitStack() as streams:
            opened: dict[str, SseStream] = {}
            for who, client in clients.items():
                streams.push_async_callback(client.aclose)
                opened[who] = await streams.enter_async_context(open_stream(client, STREAM))
            other_asset = await streams.enter_async_context(
                open_stream(clients["rep"], STREAM, params={"asset": "another-asset"}))
            # The hub reads from the topic's end once its reader is placed: publish until
            # the creator's stream has one (then every stream was offered it).
            for attempt in range(40):
                sent = update(link_id, rep_id, attempt)
                # An unreadable record on the way is skipped, not the end of the reader.
                await publish_keyed(broker, topic, [(link_id, b"{not json"),
                                                    (link_id, sent.model_dump_json().encode())])
                try:
                    got = await opened["rep"].next_event(timeout=0.5)
                    break
                except TimeoutError:
                    continue
            else:
                raise AssertionError("the creator's stream got no visit")
            assert got.event == "visit"
            seen = LinkVisitUpdate.model_validate_json(got.data)
            assert seen.link_id == link_id and seen.creator_id == rep_id
            for who in ("boss", "admin"):
                event = await opened[who].next_event(timeout=5)
                assert event.event == "visit" and event.json()["link_id"] == link_id
            await opened["rep2"].quiet_for(1.0)
            await other_asset.quiet_for(0.2)
    finally:
        await broker.stop()
