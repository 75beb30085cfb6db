"""Shape what was kept out of the counts: refused hits per reason, with words for people.
Pure: no IO."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["REASON_LABELS", "filtered_report", "reason_label"]

#: (one, several) for the reasons known today; any other reason is shown as it is named.
REASON_LABELS: dict[str, tuple[str, str]] = {
    "bot": ("bot", "bots"),
    "suspect": ("suspect", "suspect"),
    "rate_limited": ("limited", "limited"),
    "invalid": ("invalid", "invalid"),
    "unknown_asset": ("unknown asset", "unknown asset"),
}


def reason_label(reason: str, count: int) -> str:
    one, several = REASON_LABELS.get(reason, (reason.replace("_", " "),) * 2)
    return one if count == 1 else several


def filtered_report(by_reason: Mapping[str, int]) -> dict[str, Any]:
    """Total, counts per reason, and the reasons most frequent first (ties by name), each
    with its label for that count."""
    ordered = sorted(by_reason.items(), key=lambda kv: (-kv[1], kv[0]))
    return {
        "total": sum(by_reason.values()),
        "by_reason": dict(sorted(by_reason.items())),
        "reasons": [{"reason": reason, "count": n, "label": reason_label(reason, n)}
                    for reason, n in ordered],
    }
