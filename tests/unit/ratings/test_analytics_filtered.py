"""Filtered hits per reason with words for people (pure)."""

from __future__ import annotations

from services.ratings.analytics.filtered import filtered_report, reason_label


def test_reasons_come_most_frequent_first_with_a_label_for_their_count() -> None:
    report = filtered_report({"bot": 1, "rate_limited": 4, "suspect": 4, "invalid": 2})
    assert report["total"] == report["filtered"] == 11
    assert report["by_reason"] == {"bot": 1, "invalid": 2, "rate_limited": 4, "suspect": 4}
    assert [(r["reason"], r["count"], r["label"]) for r in report["reasons"]] == [
        ("rate_limited", 4, "limited"), ("suspect", 4, "suspect"), ("invalid", 2, "invalid"),
        ("bot", 1, "bot")]


def test_known_reasons_read_as_words_and_new_ones_as_they_are_named() -> None:
    assert reason_label("bot", 2) == "bots"
    assert reason_label("unknown_asset", 3) == "unknown asset"
    assert reason_label("suspect", 1) == "suspect"
    assert reason_label("some_new_reason", 2) == "some new reason"  # a reason added later
    assert filtered_report({}) == {"total": 0, "by_reason": {}, "filtered": 0,
                                   "machine_opens": 0, "reasons": []}


def test_machine_opens_are_shown_apart_from_the_filtered_hits() -> None:
    report = filtered_report({"bot": 2, "machine_open": 5, "suspect": 1})
    assert (report["total"], report["filtered"], report["machine_opens"]) == (8, 3, 5)
    assert [r["reason"] for r in report["reasons"]] == ["bot", "suspect"]
    assert reason_label("machine_open", 2) == "machine opens"
