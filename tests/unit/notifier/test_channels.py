"""The notifier's channels without a network: development prints alert emails."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from services.notifier.render import AlertView

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


async def test_without_smtp_development_prints_alert_emails(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from uuid import uuid4

    from services.notifier.channels import ConsoleEmail, Delivery

    alert = AlertView(id=1, asset_id="deck", rule="rating_below", title="Deck",
                      summary="The rating of “Deck” is 2.40 stars.", fired_at=T0)
    delivery = Delivery(id=1, message_key=uuid4(), recipient_email="o@example.com",
                        channel="email", target="o@example.com", kind="immediate", attempts=1)
    await ConsoleEmail("http://127.0.0.1:8001").send(delivery, [alert])
    printed = capsys.readouterr().out
    assert "alert email to o@example.com: Glassboard alert: Rating below threshold" in printed
    assert "Open the asset: http://127.0.0.1:8001/assets/deck" in printed
