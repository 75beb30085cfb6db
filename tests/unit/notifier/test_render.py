"""Alert emails and Slack bodies (pure): links to the asset page, everything escaped."""

from __future__ import annotations

from datetime import datetime, timezone

from services.notifier.render import AlertView, email_content, slack_body

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def test_email_and_slack_bodies_link_to_the_asset_page_and_escape_everything() -> None:
    alert = AlertView(id=1, asset_id="deck", rule="score_drop", title="<b>Deck</b> & co",
                      summary="Fell <a lot>", fired_at=T0)
    subject, text, html = email_content([alert], "https://gb.example.com/", digest=False)
    assert subject == "Glassboard alert: Score drop on “<b>Deck</b> & co”"
    assert "Open the asset: https://gb.example.com/assets/deck" in text
    assert 'href="https://gb.example.com/assets/deck"' in html
    assert "&lt;b&gt;Deck&lt;/b&gt; &amp; co" in html and "<b>Deck" not in html
    body = slack_body([alert], "https://gb.example.com", digest=False)
    assert body["text"].endswith("https://gb.example.com/assets/deck")
    section = body["blocks"][0]["text"]["text"]
    assert "<https://gb.example.com/assets/deck|&lt;b&gt;Deck&lt;/b&gt; &amp; co>" in section
    digest = slack_body([alert, alert], "https://gb.example.com", digest=True)
    assert digest["blocks"][0]["type"] == "header" and len(digest["blocks"]) == 5
