"""Print, for each running service, the issue-6 series and whether they hold non-zero values.

    python scripts/check_metrics.py ingest=http://127.0.0.1:8000 ratings=http://127.0.0.1:8001 \\
        aggregator=http://127.0.0.1:PORT notifier=http://127.0.0.1:PORT
(`glassboard dev` prints the four /metrics URLs.)
"""

from __future__ import annotations

import sys

import httpx
from prometheus_client.parser import text_string_to_metric_families

WANTED = {
    "ingest": ["glassboard_ingest_events_published", "glassboard_ingest_events_rejected",
               "faststream_published_messages", "glassboard_db_query_seconds"],
    "ratings": ["glassboard_sse_clients", "faststream_received_messages",
                "faststream_published_messages", "glassboard_consumer_lag"],
    "aggregator": ["glassboard_aggregator_events", "glassboard_aggregator_batch_size",
                   "glassboard_aggregator_batch_seconds", "glassboard_db_query_seconds",
                   "glassboard_consumer_lag", "glassboard_aggregator_states_published",
                   "faststream_received_messages"],
    "notifier": ["glassboard_alerts", "glassboard_consumer_lag", "faststream_received_messages"],
}


def main(args: list[str]) -> int:
    missing = 0
    for arg in args:
        service, _, base = arg.partition("=")
        text = httpx.get(f"{base}/metrics", timeout=5).text
        families = {f.name: f for f in text_string_to_metric_families(text)}
        for name in WANTED.get(service, []):
            family = families.get(name)
            samples = [s for s in family.samples] if family else []
            nonzero = [s for s in samples if s.value]
            print(f"{service:10s} {name:45s} series {len(samples):3d}  non-zero {len(nonzero):3d}"
                  + (f"  e.g. {nonzero[0].name}{dict(nonzero[0].labels)} = {nonzero[0].value:g}"
                     if nonzero else ""))
            missing += not nonzero
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
