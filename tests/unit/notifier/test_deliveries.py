"""The delivery worker's backoff (pure)."""

from __future__ import annotations

from services.notifier.deliveries import retry_delay


def test_retry_delay_doubles_up_to_the_cap() -> None:
    assert [retry_delay(n, 5, 60) for n in (1, 2, 3, 4, 5)] == [5, 10, 20, 40, 60]
    assert retry_delay(1, 5, 60, jitter=0.0) == 4.0 and retry_delay(1, 5, 60, jitter=0.999) < 6
