"""The hot-engagement rules: each trigger, once per link and rule, quiet hours, and each
rep's own settings."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from services.notifier.link_alerts import (
    LINK_RULES,
    LinkContext,
    ShareAlertSettings,
    evaluate_link_visit,
    in_quiet_hours,
    quiet_hours_end,
)
from services.notifier.render import AlertView, email_content, slack_body
from shared.share_links import LinkVisitUpdate, new_link_id

NOON = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)
LINK = LinkContext(link_id=new_link_id(), asset_id="case-study", title="Case Study",
                   creator_email="rep@example.com", recipient_email="ann@acme.example",
                   recipient_name="Ann Lee", company="Acme")


def visit(**overrides: Any) -> LinkVisitUpdate:
    values: dict[str, Any] = dict(
        link_id=LINK.link_id, event_id="0b8f6a3e-2f43-4c1e-9d7e-1b2c3d4e5f60",
        asset_id="case-study", creator_id=1, opened_at=NOON - timedelta(seconds=2),
        first_open=False, forwarded=False, device_class="desktop", browser="Firefox",
        os="Linux", updated_at=NOON)
    values.update(overrides)
    return LinkVisitUpdate(**values)


def rules(update: LinkVisitUpdate, settings: ShareAlertSettings | None = None,
          fired: frozenset[str] = frozenset(), now: datetime = NOON) -> list[str]:
    return [a.rule for a in evaluate_link_visit(update, LINK, settings or ShareAlertSettings(),
                                                fired, now)]


def test_the_first_open_alerts_the_rep_at_once_naming_the_recipient() -> None:
    [alert] = evaluate_link_visit(visit(first_open=True), LINK, ShareAlertSettings(),
                                  frozenset(), NOON)
    assert alert.rule == "link_first_open" and alert.rep_email == "rep@example.com"
    assert alert.due_at == NOON
    assert alert.headline == "Ann Lee (Acme) opened “Case Study”"
    assert "for the first time, on a desktop (Firefox, Linux)" in alert.summary
    assert alert.details["link_id"] == LINK.link_id and alert.details["held_until"] is None


def test_an_open_that_is_not_the_first_raises_nothing() -> None:
    assert rules(visit()) == []


def test_a_reopen_alerts_only_after_the_reps_number_of_days() -> None:
    back = visit(previous_open_at=NOON - timedelta(days=7, seconds=3))
    assert rules(back) == ["link_reopen"]
    assert "7 days after their previous visit" in evaluate_link_visit(
        back, LINK, ShareAlertSettings(), frozenset(), NOON)[0].summary
    assert rules(visit(previous_open_at=NOON - timedelta(days=6))) == []
    assert rules(visit(previous_open_at=NOON - timedelta(days=2, seconds=2)),
                 ShareAlertSettings(reopen_after_days=2)) == ["link_reopen"]
    assert rules(back, ShareAlertSettings(reopen_after_days=0)) == []  # 0: off
    # A forwarded reader's second open is no re-open of the recipient.
    assert rules(visit(previous_open_at=NOON - timedelta(days=9), forwarded=True,
                       forward_no=1)) == ["link_forward"]


def test_the_first_forward_alerts() -> None:
    [alert] = evaluate_link_visit(visit(forwarded=True, forward_no=1), LINK,
                                  ShareAlertSettings(), frozenset(), NOON)
    assert alert.rule == "link_forward"
    assert alert.headline == "“Case Study” was forwarded"
    assert "Someone other than Ann Lee (Acme) opened your link" in alert.summary


def test_a_long_read_alerts_at_the_reps_threshold() -> None:
    assert rules(visit(engaged_ms=119_999)) == []
    [alert] = evaluate_link_visit(visit(engaged_ms=125_000), LINK, ShareAlertSettings(),
                                  frozenset(), NOON)
    assert alert.rule == "link_long_read"
    assert alert.summary.startswith("Ann Lee (Acme) has spent 2 min 5 s on “Case Study”")
    assert rules(visit(engaged_ms=10_000), ShareAlertSettings(long_read_seconds=10)) == [
        "link_long_read"]
    assert rules(visit(engaged_ms=10_000_000), ShareAlertSettings(long_read_seconds=0)) == []
    forwarded = evaluate_link_visit(visit(engaged_ms=200_000, forwarded=True, forward_no=2),
                                    LINK, ShareAlertSettings(), frozenset({"link_forward"}),
                                    NOON)
    assert [a.headline for a in forwarded] == ["Forwarded reader 2 is reading “Case Study”"]


def test_each_rule_fires_at_most_once_per_link() -> None:
    everything = visit(first_open=True, forwarded=True, forward_no=1, engaged_ms=600_000,
                       previous_open_at=NOON - timedelta(days=30))
    assert rules(everything) == ["link_first_open", "link_forward", "link_long_read"]
    assert rules(everything, fired=frozenset(LINK_RULES)) == []
    assert rules(everything, fired=frozenset({"link_first_open"})) == [
        "link_forward", "link_long_read"]


def test_a_rep_can_turn_rules_off() -> None:
    off = ShareAlertSettings(first_open=False, forward=False, long_read_seconds=0)
    assert rules(visit(first_open=True, forwarded=True, engaged_ms=600_000), off) == []


def test_quiet_hours_hold_the_alert_until_they_end() -> None:
    night = ShareAlertSettings(quiet_from_hour=22, quiet_to_hour=7)
    late = datetime(2026, 12, 2, 23, 30, tzinfo=timezone.utc)
    [alert] = evaluate_link_visit(visit(first_open=True), LINK, night, frozenset(), late)
    assert alert.due_at == datetime(2026, 12, 3, 7, 0, tzinfo=timezone.utc)
    assert alert.details["held_until"] == "2026-12-03T07:00:00+00:00"
    early = datetime(2026, 12, 3, 6, 59, tzinfo=timezone.utc)
    assert quiet_hours_end(early, night) == datetime(2026, 12, 3, 7, 0, tzinfo=timezone.utc)
    assert quiet_hours_end(NOON, night) == NOON
    lunch = ShareAlertSettings(quiet_from_hour=12, quiet_to_hour=14)
    assert quiet_hours_end(NOON, lunch) == NOON.replace(hour=14)
    assert not in_quiet_hours(NOON, 5, 5)  # equal hours: no quiet hours
    assert in_quiet_hours(NOON.replace(hour=3), 22, 7)
    assert not in_quiet_hours(NOON.replace(hour=7), 22, 7)


def test_an_erased_recipient_is_not_named() -> None:
    erased = LinkContext(link_id=LINK.link_id, asset_id="case-study", title="Case Study",
                         creator_email="rep@example.com")
    [alert] = evaluate_link_visit(visit(first_open=True), erased, ShareAlertSettings(),
                                  frozenset(), NOON)
    assert alert.headline == "Your recipient opened “Case Study”"


def test_a_link_alert_email_points_the_rep_to_their_links() -> None:
    [alert] = evaluate_link_visit(visit(first_open=True), LINK, ShareAlertSettings(),
                                  frozenset(), NOON)
    view = AlertView(id=1, asset_id=alert.asset_id, rule=alert.rule, title=alert.title,
                     summary=alert.summary, fired_at=NOON, details=alert.details)
    subject, text, html = email_content([view], "https://gb.example.com", digest=False)
    assert subject == "Glassboard: Ann Lee (Acme) opened “Case Study”"
    assert "Link opened: Case Study" in text
    assert "See the link's visits: https://gb.example.com/links" in text
    assert "You get this because you sent this link." in text
    assert 'href="https://gb.example.com/links"' in html and "you sent this link" in html
    assert slack_body([view], "https://gb.example.com", False)["text"].endswith(
        "https://gb.example.com/links")
