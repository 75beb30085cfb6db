"""The score hub's reader never raises on a hostile ``asset-scores`` record."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings

from harness.hostile import generated, hand_made
from harness.notifier import score_state
from services.ratings.scores.hub import ScoreHub, decode_state

STATE: dict[str, Any] = json.loads(score_state("pitch-deck", 3).model_dump_json())


def test_hostile_states_are_skipped_and_a_valid_one_is_held() -> None:
    hub = ScoreHub()
    bodies = hand_made(STATE, "updated_at", "asset_id")
    held = [s for s in map(decode_state, bodies) if s is not None and hub.apply(s)]
    # Unbounded dates and ids in shared/scores.py decode (see the notifier's test); the
    # hub holds them by revision like any other state, and nothing raises.
    assert len(held) == 3 and set(hub.states) == {"pitch-deck", "a\x00b", "x" * 1_000_000}
    state = decode_state(json.dumps({**STATE, "revision": 4}).encode())
    assert state is not None and hub.apply(state)
    assert hub.states["pitch-deck"].revision == 4


@settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))
@given(generated(STATE))
def test_generated_states_never_raise(value: bytes) -> None:
    state = decode_state(value)
    assert state is None or isinstance(state.revision, int)
