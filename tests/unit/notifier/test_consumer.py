"""The notifier's decoders never raise: a hostile ``asset-scores`` record is None (then
dead-lettered), and on ``events`` only a real low rating with a comment is kept."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings

from harness.hostile import generated, hand_made
from harness.notifier import score_state
from services.notifier.consumer import decode_rating, decode_score

NOW = datetime.now(timezone.utc)
STATE: dict[str, Any] = json.loads(score_state("pitch-deck", 3).model_dump_json())
RATING: dict[str, Any] = {"type": "rating", "asset_id": "pitch-deck", "source": "link",
                          "occurred_at": NOW.isoformat(), "viewer_id": "user:7", "stars": 1,
                          "has_comment": True}


def test_hostile_states_are_none_and_a_valid_one_decodes() -> None:
    bodies = hand_made(STATE, "updated_at", "asset_id")
    decodable = {i for i, b in enumerate(bodies) if decode_score(b) is not None}
    # The shared model bounds neither its dates nor its asset_id (shared/scores.py): year 1,
    # year 9999, 1970, next year, a NUL and a huge id decode. The notifier then drops ids
    # the catalog does not hold, and isolates what PostgreSQL refuses, one record at a time.
    assert decodable == {14, 15, 16, 17, 24, 26}
    good = decode_score(json.dumps(STATE).encode())
    assert good is not None and good.revision == 3


def test_hostile_events_are_never_ratings() -> None:
    bodies = [*hand_made(RATING, "occurred_at", "viewer_id"),
              *hand_made(RATING, "previous_rated_at", "asset_id")]
    assert [b for b in bodies if decode_rating(b) is not None] == []
    rating = decode_rating(json.dumps(RATING).encode())
    assert rating is not None and rating.stars == 1


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(generated(STATE) | generated(RATING))
def test_generated_records_never_raise(value: bytes) -> None:
    state = decode_score(value)
    assert state is None or state.asset_id
    rating = decode_rating(value)
    assert rating is None or (rating.type == "rating" and rating.has_comment
                              and rating.stars is not None)
