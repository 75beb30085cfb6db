"""Percentiles and latency samples, shared by every figure that has a distribution."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Latencies", "percentile"]


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile (no interpolation: every value reported was observed)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100.0 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Latencies:
    """Seconds per item, and how many items were expected (the rest never arrived)."""

    values: list[float]
    expected: int

    @property
    def missing(self) -> int:
        return self.expected - len(self.values)

    def ms(self, pct: float) -> float | None:
        value = percentile(self.values, pct)
        return None if value is None else value * 1000.0
