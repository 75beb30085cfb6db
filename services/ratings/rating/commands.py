"""Apply rating commands from one-tap links (the ``rating-commands`` topic).

Same rules as ``PUT /v1/assets/{id}/rating``: the rater and the asset must exist, and an
owner cannot rate their own asset. The change goes through :func:`apply_rating` with the
command's id, so a redelivered command is applied once and its event reaches the outbox
exactly once.

Nothing is ever lost: a failure we may recover from (database down, deadlock) raises,
FastStream nacks, and the consumer rewinds to retry the same command. Nothing loops
either: a command we can never apply (unreadable, or its values refused by PostgreSQL:
shared/dead_letter.py) goes to the dead-letter topic with the reason, and is acknowledged.

The bus is not trusted with identity: a command is applied only when it carries ingest's
signature over its exact bytes (shared/command_signing.py). An unsigned or forged one is
dead-lettered with the reason "unsigned" or "bad signature", before it is even decoded.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pydantic import ValidationError

from shared.command_signing import command_key, verify_command
from shared.commands import RatingCommand
from shared.dead_letter import dead_letter, tied_to_record
from shared.events import Source, in_sane_range
from shared.topics import Topics

from . import store
from .models import Outcome, RatingChange
from .outbox import OutboxRelay

__all__ = ["apply_command", "decode_command", "subscribe_rating_commands"]

log = logging.getLogger(__name__)

#: Pause before a failed command is retried: long enough not to spin on a database outage.
RETRY_PAUSE_SECONDS = 1.0


def decode_command(body: bytes) -> RatingCommand | None:
    """The command, or None when the record can never be one (logged, never retried)."""
    command, reason = _decode(body)
    if command is None:
        log.warning("unreadable rating command: %s", reason[:300])
    return command


def _decode(body: bytes) -> tuple[RatingCommand | None, str]:
    try:
        command = RatingCommand.model_validate_json(body)
        # A tap in 1970 or next year is forged or corrupt: the envelope's sane range.
        in_sane_range(command.issued_at)
        return command, ""
    except ValidationError as exc:
        return None, str(exc.errors(include_url=False, include_input=False))
    except Exception as exc:  # noqa: BLE001 - whatever the bytes, the partition moves on
        return None, f"{type(exc).__name__}: {exc}"


async def apply_command(conn: asyncpg.Connection, command: RatingCommand) -> Outcome:
    """Apply one command inside the caller's transaction."""
    if not await store.user_exists(conn, command.user_id):
        return Outcome.UNKNOWN_USER
    asset = await store.asset_owner(conn, command.asset_id)
    if asset is None:
        return Outcome.UNKNOWN_ASSET
    if asset["owner_id"] == command.user_id:
        return Outcome.OWN_ASSET
    # Tapping the star you already gave, without a note, changes nothing: it must not
    # wipe the note you wrote last time (a link cannot say "delete my note").
    current = await store.current_stars(conn, command.asset_id, command.user_id)
    if command.comment is None and current == command.stars:
        return Outcome.UNCHANGED
    event = await store.apply_rating(conn, RatingChange(
        asset_id=command.asset_id, user_id=command.user_id, stars=command.stars,
        at=command.issued_at, source=Source.LINK, comment=command.comment,
        command_id=command.command_id,
    ))
    return Outcome.APPLIED if event is not None else Outcome.DUPLICATE


@dataclass(frozen=True)
class _Unusable:
    """Why a record can never be applied: it goes to the dead-letter topic."""

    reason: str


async def _handle(
    pool: asyncpg.Pool, outbox: OutboxRelay, body: bytes, *, key: bytes,
    headers: Iterable[tuple[str, bytes | str | None]] | None,
) -> Outcome | _Unusable:
    """The outcome of applying ``body``, or why it can never be applied.

    The signature is checked first: a forged command is never decoded, let alone applied.
    """
    refused = verify_command(key, body, headers)
    if refused is not None:
        return _Unusable(refused)
    command, reason = _decode(body)
    if command is None:
        return _Unusable(f"unreadable rating command: {reason}")
    try:
        async with pool.acquire() as conn, conn.transaction():
            outcome = await apply_command(conn, command)
    except Exception as exc:
        if not tied_to_record(exc):
            raise
        # Passed validation yet refused by PostgreSQL (or the asset vanished mid-way):
        # retrying would fail forever and block the partition.
        return _Unusable(f"rating command refused by the database: {type(exc).__name__}: {exc}")
    if outcome is Outcome.APPLIED:
        outbox.nudge()
    elif outcome in (Outcome.UNKNOWN_USER, Outcome.UNKNOWN_ASSET, Outcome.OWN_ASSET):
        log.warning("rating command %s for asset %r by user %d skipped: %s",
                    command.command_id, command.asset_id, command.user_id, outcome.value)
    else:
        log.debug("rating command %s: %s", command.command_id, outcome.value)
    return outcome


async def _raw(message: Any) -> None:
    """Skip FastStream's JSON decoding: we decode ourselves, tolerantly."""
    return None


def subscribe_rating_commands(
    broker: KafkaBroker, topics: Topics, pool: asyncpg.Pool, outbox: OutboxRelay,
    group: Mapping[str, int], *, signing_secret: str,
) -> None:
    """Register the consumer; call before ``broker.start()``.

    ``signing_secret`` is ``GLASSBOARD_SIGNING_SECRET``, the same as ingest's: commands
    are checked against the key derived from it (shared/command_signing.py).
    """
    key = command_key(signing_secret)

    @broker.subscriber(  # type: ignore[call-overload]
        topics.rating_commands.name,
        group_id=topics.group_ratings,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=_raw,
        fetch_max_wait_ms=100,  # tansu holds fetches for the full wait: keep taps snappy
        **group,
    )
    async def on_rating_command(message: KafkaMessage) -> None:
        try:
            record = message.raw_message
            outcome = await _handle(pool, outbox, message.body, key=key,
                                    headers=getattr(record, "headers", None))
            if isinstance(outcome, _Unusable):
                await dead_letter(broker, topics.events_dlq.name, record, outcome.reason)
                log.warning("rating command dead-lettered: %s", outcome.reason[:300],
                            extra={"topic": getattr(record, "topic", None),
                                   "offset": getattr(record, "offset", None)})
        except Exception:
            log.exception("rating command not applied; retrying")
            await asyncio.sleep(RETRY_PAUSE_SECONDS)
            raise  # NACK_ON_ERROR rewinds to this command
