"""``rating-commands`` decoding never raises: every hostile record is None (the consumer
dead-letters it), a valid command decodes."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings

from harness.hostile import generated, hand_made
from services.ratings.rating.commands import decode_command

COMMAND: dict[str, Any] = {"asset_id": "pitch-deck", "user_id": 7, "stars": 4,
                           "comment": "useful", "issued_at": datetime.now(timezone.utc).isoformat()}


def test_hostile_commands_are_none_and_a_valid_one_decodes() -> None:
    bodies = [*hand_made(COMMAND, "issued_at", "asset_id"),
              *hand_made(COMMAND, "issued_at", "comment")]
    # Overflowing, ancient and far-future tap times are refused like bad JSON.
    assert [b for b in bodies if decode_command(b or b"") is not None] == []
    command = decode_command(json.dumps(COMMAND).encode())
    assert command is not None and command.stars == 4


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(generated(COMMAND))
def test_generated_commands_never_raise(value: bytes) -> None:
    command = decode_command(value)
    assert command is None or 1 <= command.stars <= 5
