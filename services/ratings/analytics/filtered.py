"""Shape what was kept out of the counts: refused hits per reason, with words for people.
Pure: no IO."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["MACHINE_OPEN", "REASON_LABELS", "filtered_report", "reason_label"]

#: (one, several) for the reasons known today; any other reason is shown as it is named.
REASON_LABELS: dict[str, tuple[str, str]] = {
    "bot": ("bot", "bots"),
    "suspect": ("suspect", "suspect"),
    "rate_limited": ("limited", "limited"),
    "invalid": ("invalid", "invalid"),
    "unknown_asset": ("unknown asset", "unknown asset"),
    "machine_open": ("machine open", "machine opens"),
}
#: Shown apart from the filtered hits: Apple's proxy opening every email (shared/scanners.py).
MACHINE_OPEN = "machine_open"


def reason_label(reason: str, count: int) -> str:
    one, several = REASON_LABELS.get(reason, (reason.replace("_", " "),) * 2)
    return one if count == 1 else several


def filtered_report(by_reason: Mapping[str, int]) -> dict[str, Any]:
    """Total, counts per reason, machine opens apart from the other filtered hits, and
    those reasons most frequent first (ties by name), each labelled for its count."""
    ordered = sorted(((r, n) for r, n in by_reason.items() if r != MACHINE_OPEN),
                     key=lambda kv: (-kv[1], kv[0]))
    machine_opens = by_reason.get(MACHINE_OPEN, 0)
    total = sum(by_reason.values())
    return {
        "total": total,
        "by_reason": dict(sorted(by_reason.items())),
        "filtered": total - machine_opens,
        "machine_opens": machine_opens,
        "reasons": [{"reason": reason, "count": n, "label": reason_label(reason, n)}
                    for reason, n in ordered],
    }
