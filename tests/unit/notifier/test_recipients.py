"""Who gets an alert, on which channel, and when a digest is due (pure)."""

from __future__ import annotations

from datetime import datetime, timezone

from services.notifier.recipients import Preferences, next_digest_at, targets_for

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def test_targets_follow_preferences_and_digests_wait_for_the_digest_hour() -> None:
    [email] = targets_for("o@example.com", None, T0, 8)
    assert (email.channel, email.target, email.kind, email.due_at) == (
        "email", "o@example.com", "immediate", T0)
    prefs = Preferences(email=False, webhook_url="https://hooks.example.com/x", mode="digest")
    [hook] = targets_for("o@example.com", prefs, T0, 8)
    assert hook.channel == "webhook" and hook.due_at == datetime(2026, 3, 3, 8, tzinfo=timezone.utc)
    assert next_digest_at(T0.replace(hour=7), 8) == T0.replace(hour=8, minute=0)
    assert targets_for("o@example.com", Preferences(email=False), T0, 8) == []
