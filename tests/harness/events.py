"""Usage events published straight onto the ``events`` topic, as ingest would publish them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from devtools.settings import StackSettings
from shared.events import Device, DeviceClass, EventEnvelope, Source
from shared.kafka import make_broker, publish_keyed

__all__ = ["NOW", "make_events", "publish", "publish_raw"]

NOW = datetime.now(timezone.utc).replace(microsecond=0)


def make_events(asset: str, n: int, *, viewer_prefix: str = "v") -> list[EventEnvelope]:
    """n views by n distinct viewers (so the double-click rule never applies) plus dwell."""
    events = []
    for i in range(n):
        device = (DeviceClass.PHONE, DeviceClass.DESKTOP, DeviceClass.TABLET)[i % 3]
        view = EventEnvelope(type="view", asset_id=asset, viewer_id=f"{viewer_prefix}{i}",
                             occurred_at=NOW - timedelta(minutes=i % 50),
                             device=Device(device_class=device), source=Source.BEACON)
        events.append(view)
        if i % 4 == 0:
            events.append(EventEnvelope(type="dwell", asset_id=asset, view_id=view.event_id,
                                        occurred_at=view.occurred_at, engaged_ms=1000, wall_ms=2000,
                                        device=view.device, source=Source.BEACON))
    return events


async def publish(settings: StackSettings, events: list[EventEnvelope]) -> None:
    broker = make_broker(settings.kafka_bootstrap_servers)
    await broker.start()
    try:
        await publish_keyed(broker, settings.topics.events.name,
                            [(e.asset_id, e.model_dump_json().encode()) for e in events])
    finally:
        await broker.stop()


async def publish_raw(settings: StackSettings, values: list[bytes], key: str) -> None:
    broker = make_broker(settings.kafka_bootstrap_servers)
    await broker.start()
    try:
        await publish_keyed(broker, settings.topics.events.name, [(key, v) for v in values])
    finally:
        await broker.stop()
