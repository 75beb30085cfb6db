"""Decode raw Kafka records tolerantly: a bad record becomes a rejection, never an
exception that would stall its partition. Any exception counts, not only a validation
error: an overflowing date or a recursion limit must not replay the batch forever."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from shared.events import RejectedEvent, RejectReason, describe_errors

__all__ = ["decode_pairs", "decode_records", "rejection_of"]

M = TypeVar("M", bound=BaseModel)

#: Namespace for ids of undecodable records: topic/partition/offset → the same id on replay.
_DLQ_NAMESPACE = uuid.UUID("5b0f8a52-3c1e-4f55-9a0e-6f0c7d9e2a11")


def decode_records(
    records: Sequence[Any], model: type[M]
) -> tuple[list[M], list[tuple[Any, RejectedEvent]]]:
    """Valid models, and (record, rejection) for each record that could not be decoded."""
    valid, invalid = decode_pairs(records, model)
    return [m for _, m in valid], invalid


def decode_pairs(
    records: Sequence[Any], model: type[M]
) -> tuple[list[tuple[Any, M]], list[tuple[Any, RejectedEvent]]]:
    """(record, model) for each valid record, (record, rejection) for each other one."""
    valid: list[tuple[Any, M]] = []
    invalid: list[tuple[Any, RejectedEvent]] = []
    for record in records:
        try:
            valid.append((record, model.model_validate_json(record.value or b"")))
        except Exception as exc:  # noqa: BLE001 - any failure dead-letters this one record
            invalid.append((record, rejection_of(record, exc)))
    return valid, invalid


def rejection_of(record: Any, exc: Exception) -> RejectedEvent:
    """The rejection that stands for an undecodable ``record``; the same id on replay."""
    where = f"{record.topic}:{record.partition}:{record.offset}"
    reason = (describe_errors(exc, whole="message") if isinstance(exc, ValidationError)
              else f"message: {type(exc).__name__}: {exc}")
    raw = (record.value or b"")[:2000].decode("utf-8", errors="replace")
    return RejectedEvent(
        event_id=uuid.uuid5(_DLQ_NAMESPACE, where),
        reason=RejectReason.INVALID,
        detail=reason[:500],
        asset_id=(record.key or b"").decode("utf-8", errors="replace")[:200] or None,
        payload={"raw": raw, "kafka": where},
    )
