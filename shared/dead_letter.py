"""What every consumer does with a record it can never apply: dead-letter it and move on.

A failure is either the record's (it cannot be decoded, or the database refuses its
values) or the world's (database down, deadlock, broker gone). The record's failures send
that one record to ``events-dlq`` with the reason and its origin in headers, and the
consumer acknowledges it; the world's failures replay the batch after a pause, which ends
when the world recovers. docs/pipeline.md ("Dead letters") states the rules.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from faststream.kafka import KafkaBroker

from .kafka import publish_keyed
from .topics import DLQ_REASON_HEADER

__all__ = ["MAX_DEAD_VALUE_BYTES", "RECORD_FAULTS", "clean_reason", "dead_letter", "tied_to_record"]

#: Failures that belong to one record and would recur on every replay of it: bad values
#: (SQLSTATE class 22), a constraint it breaks (23), a row too big to index (54), and
#: Python refusing a value while decoding or computing (overflowing dates, lone
#: surrogates that cannot be encoded, nesting beyond the recursion limit).
RECORD_FAULTS: tuple[type[BaseException], ...] = (
    asyncpg.DataError,
    asyncpg.IntegrityConstraintViolationError,
    asyncpg.ProgramLimitExceededError,
    ValueError,
    TypeError,
    ArithmeticError,
    RecursionError,
    LookupError,
)

#: A record near the broker's 1 MiB limit plus our headers would be refused by the producer
#: and replay forever; its first 256 KiB say enough about what it was.
MAX_DEAD_VALUE_BYTES = 256 * 1024


def tied_to_record(exc: BaseException) -> bool:
    """True when retrying the same record can never succeed; False for outages, deadlocks
    and bugs that fail every record alike (those replay until fixed)."""
    return isinstance(exc, RECORD_FAULTS)


async def dead_letter(
    broker: KafkaBroker, topic: str, record: Any, reason: str, *, key: str | None = None,
    value: bytes | None = None,
) -> None:
    """Publish ``record`` (a raw aiokafka record) as received to the dead-letter ``topic``,
    with why and where it came from; ``value`` replaces its bytes when given."""
    raw_key = getattr(record, "key", None)
    if key is None and raw_key:
        key = bytes(raw_key).decode("utf-8", errors="replace")[:200]
    body = value if value is not None else (record.value or b"")
    headers = {
        DLQ_REASON_HEADER: clean_reason(reason),
        "x-source-topic": str(record.topic),
        "x-source-partition": str(record.partition),
        "x-source-offset": str(record.offset),
    }
    if len(body) > MAX_DEAD_VALUE_BYTES:
        headers["x-dlq-truncated-from"] = str(len(body))
        body = body[:MAX_DEAD_VALUE_BYTES]
    await publish_keyed(broker, topic, [(key, body)], headers=headers)


def clean_reason(reason: str) -> str:
    """A reason any header and log can carry: no NUL, no lone surrogate, 500 characters."""
    return reason.replace("\x00", "\\0").encode("utf-8", "replace").decode()[:500]
